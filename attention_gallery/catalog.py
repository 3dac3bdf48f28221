"""What the site is told about the kernel's methods and measures, as data.

The registry of explanation methods and the texts that say what a measure means
live with the code that computes them (:mod:`attention_gallery.explain`, which needs
torch). The site never imports that code: the build asks the kernel side once
(:func:`attention_gallery.explain.facts.catalog`) and writes the answer into the
manifest (:mod:`attention_gallery.manifest`); the plugin reads it back as a
:class:`Catalog`. A method added to the registry reaches every page, table, legend
and the live page through this record of it, without any site module naming it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .record import RANDOM  # the random baseline's key beside the methods' names


@dataclass(frozen=True)
class MethodFacts:
    """One registered method as the site sees it."""

    name: str
    title: str
    description: str
    needs: tuple[str, ...]  # keys of Catalog.needs
    browser: bool  # the live page computes it too
    reference: bool  # the ranking tau-LOO compares the others with
    signed: bool  # scores push toward (+) or away from (-) the target class
    unit: str  # what a score is measured in (for the colour legend)
    settings: dict = field(default_factory=dict)  # what a page states about it (rollout's residual, IG's baseline)


@dataclass(frozen=True)
class Catalog:
    """Every registered method, in the registry's order, and the measures' texts."""

    methods: dict[str, MethodFacts]
    needs: dict[str, str]  # what each need means, in words a page can show
    random_title: str  # the deletion test's random baseline, as a table names it
    reading: str  # how to read the deletion tests' columns, with the verdict's rule
    removal: str  # what removing a token means
    draws: int  # random orders drawn where a size has more than exact_limit subsets
    exact_limit: int
    ks: tuple[int, ...]  # the top-k columns
    bins: tuple[float, ...]  # ERASER's AOPC bins
    head_change: str  # what head change measures
    layer_change: str  # what total, direct and inherited layer change mean

    def titles(self) -> dict[str, str]:
        """{method name: title}, the random baseline last."""
        return {**{name: m.title for name, m in self.methods.items()}, RANDOM: self.random_title}

    def ranked_against_reference(self, name: str) -> bool:
        """Whether a table row has a tau against the reference ranking (the random
        baseline and the reference itself have none)."""
        return name in self.methods and not self.methods[name].reference

    def in_browser(self) -> dict[str, MethodFacts]:
        return {name: m for name, m in self.methods.items() if m.browser}

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Catalog":
        methods = {name: MethodFacts(**{**m, "needs": tuple(m["needs"])}) for name, m in data["methods"].items()}
        return cls(**{**data, "methods": methods, "ks": tuple(data["ks"]), "bins": tuple(data["bins"])})
