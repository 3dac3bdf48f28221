"""Precomputed explanations of a sentiment classifier, trained vs untrained.

The package follows the gallery's data flow, one module per stage:

``sentences`` (the sentence set) -> ``pairs``/``models`` (the model pair) ->
``attention``/``attribution``/``faithfulness`` (what the models do) ->
``views`` (bertviz views, figures) -> ``execute`` (the parameterised notebook) ->
``site`` (the MkDocs gallery). ``config`` holds every setting in one place.
"""

__version__ = "0.1.0"
