"""Precomputed explanations of a sentiment classifier, trained vs untrained.

The package follows the gallery's data flow, one module per stage. The build:
``sentences`` (the sentence set) -> ``pairs``/``models`` (the model pair) ->
``notebook``/``execute`` (the parameterised notebook, run in warm kernels) ->
``build``/``site`` (the cache, the MkDocs gallery). Inside each kernel,
``explain`` (encode, forward, methods, head change, removal, faithfulness, views,
page) explains one sentence and writes its ``record``, the one thing the build
reads back. ``config`` holds every setting in one place.
"""

__version__ = "0.1.0"
