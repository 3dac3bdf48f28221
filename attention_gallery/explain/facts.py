"""The kernel side's answer to "what methods and measures are there": the
registry and the measures' texts as a :class:`~attention_gallery.catalog.Catalog`,
which the build writes into the manifest for the site (which imports no torch)."""

from __future__ import annotations

from ..catalog import Catalog, MethodFacts
from . import faithfulness, headchange, layerchange, removal
from .methods import NEEDS, REGISTRY


def catalog() -> Catalog:
    methods = {name: MethodFacts(name=name, title=m.title, description=m.description, needs=tuple(sorted(m.needs)),
                                 browser=m.browser, reference=m.reference, signed=m.signed, unit=m.unit,
                                 settings={key: getattr(m, key) for key in m.published})
               for name, m in REGISTRY.items()}
    return Catalog(methods=methods, needs=dict(NEEDS), random_title=faithfulness.RANDOM_TITLE,
                   reading=faithfulness.READING, removal=removal.REMOVAL, draws=faithfulness.DRAWS,
                   exact_limit=faithfulness.EXACT_LIMIT, ks=tuple(faithfulness.KS), bins=tuple(faithfulness.BINS),
                   head_change=headchange.MEASURE, layer_change=layerchange.MEANING)
