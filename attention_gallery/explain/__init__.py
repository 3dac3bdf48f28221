"""What runs inside the notebook's kernel, one module per stage:

``encode`` (the sentence, tokenised once) -> ``forward`` (the one forward pass;
both models run once) -> ``methods`` (the registry of explanation methods) and
``headchange`` -> ``removal`` (what removing a token means) -> ``faithfulness``
(the deletion test) -> ``views`` (HTML) -> ``page`` (the helpers the template
calls; its last one writes the sentence's record, ``attention_gallery.record``).
"""
