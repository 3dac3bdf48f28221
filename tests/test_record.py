"""The record of a sentence: its validation, what the kernel writes (complete
whatever cells ran) and what the build accepts; the page's display mode."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import record_data
from pydantic import ValidationError

from attention_gallery import record
from attention_gallery.errors import BuildError
from attention_gallery.explain import page, views
from attention_gallery.explain.facts import catalog
from attention_gallery.explain.methods import REGISTRY, Attribution, Method
from attention_gallery.record import RecordError, SentenceRecord
from attention_gallery.records import read_record
from attention_gallery.web import pages

TEXT = "A good film"
ALL = list(REGISTRY)


def _notebook(data) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("page.record(ex)")
    if data is not None:
        cell.outputs = [nbformat.v4.new_output("display_data", data={record.MIME: data, "text/plain": "{}"})]
    return nbformat.v4.new_notebook(cells=[cell])


# --- validation ------------------------------------------------------------------

def test_a_complete_record_parses_and_round_trips():
    r = record.parse(record_data(), ALL)
    assert r.trained.correct and not r.untrained.correct
    assert r.top_heads[0] == (1, 1, 0.4)
    assert SentenceRecord.model_validate_json(r.model_dump_json()) == r
    assert r.missing(ALL) == []
    # the word tokens: all but [CLS] and [SEP], the positions the kernel ranks
    assert r.words == [1, 2, 3] and r.special == [True, False, False, False, True]
    assert list(record.toward_last_label(r.scores["ig"].scores, 0, 2)) == [-x for x in r.scores["ig"].scores]


@pytest.mark.parametrize("field", sorted(SentenceRecord.model_fields))
def test_every_field_is_required(field):
    data = record_data()
    del data[field]
    with pytest.raises(RecordError, match=f"its record lacks {field} "):
        record.parse(data, ALL)


def test_a_record_without_a_registered_method_is_rejected():
    *earlier, last = ALL
    data = record_data()
    del data["faithfulness"]["trained"][last]
    with pytest.raises(RecordError, match=rf"lacks faithfulness\.trained\.{last} \("):
        record.parse(data, ALL)
    older = record_data(methods=earlier)  # a record written before ``last`` was registered
    older["faithfulness"]["trained"].pop(last)
    with pytest.raises(RecordError) as err:
        record.parse(older, ALL)
    assert f"method {last!r}, faithfulness.trained.{last}" in str(err.value)
    assert record.parse(older, earlier).methods == earlier


def test_a_record_without_the_random_baseline_is_rejected():
    data = record_data()
    del data["faithfulness"]["trained"]["random"]
    with pytest.raises(RecordError, match=r"faithfulness\.trained\.random"):
        record.parse(data, ALL)


@pytest.mark.parametrize("changes, message", [
    ({"n_tokens": 4}, "n_tokens is 4 but there are 5 tokens"),
    ({"schema_version": 1}, "schema_version"),
    ({"colour": "red"}, "colour"),
    ({"head_change": [[0.1, 0.2], [0.3]]}, "layers x heads"),
    ({"top_heads": [[2, 0, 0.5]]}, r"top head \(2, 0\) is outside the 2 x 2 heads"),
    ({"methods": ["ig", "ig"]}, "distinct"),
    ({"special_tokens": [True, False, True]}, "special_tokens has 3 entries for 5 tokens"),
    ({"labels": ["positive"]}, "two or more distinct"),
    ({"label": "neutral"}, "label 'neutral' is not one of the labels"),
])
def test_malformed_records_are_rejected(changes, message):
    with pytest.raises(RecordError, match=message):
        record.parse(record_data(**changes), ALL)


def test_the_words_are_the_tokens_the_kernel_did_not_mark_special():
    # a [SEP] typed inside the sentence is special for the tokenizer, so for the site too
    r = record.parse(record_data(tokens=["[CLS]", "a", "[SEP]", "film", "[SEP]"],
                                 special_tokens=[True, False, True, False, True]), ALL)
    assert r.words == [1, 3] and r.special == [True, False, True, False, True]
    assert r.labels == ["negative", "positive"] and r.positive == "positive"


def test_outcome_fields_are_required_too():
    data = record_data()
    data["trained"] = {k: v for k, v in data["trained"].items() if k != "logits"}
    with pytest.raises(ValidationError):
        SentenceRecord.model_validate(data)


def test_the_build_names_the_sentence_and_what_is_missing():
    assert read_record(_notebook(record_data()), "a-good-film", REGISTRY).slug == "a-good-film"
    data = record_data()
    del data["faithfulness"], data["head_change"]
    with pytest.raises(BuildError, match=r"sentence 'x': its record lacks head_change, faithfulness "
                                         r"\(the notebook's record cell"):
        read_record(_notebook(data), "x", REGISTRY)
    with pytest.raises(BuildError, match=r"sentence 'y': the executed notebook has no record"):
        read_record(_notebook(None), "y", REGISTRY)
    with pytest.raises(BuildError, match=r"sentence 'z': its notebook holds the record of 'a-good-film'"):
        read_record(_notebook(record_data()), "z", REGISTRY)


# --- the kernel side: complete whatever ran, and the display mode -----------------------

@pytest.fixture()
def shown(monkeypatch):
    """What the page helpers display, as a list of HTML strings / raw bundles without
    HTML (``.bundles``: every raw bundle)."""
    class Shown(list):
        bundles: list

    out = Shown()
    out.bundles = []

    def display(obj, raw=False):
        if raw:
            out.bundles.append(obj)
        out.append(obj["text/html"] if raw and "text/html" in obj else obj if raw else obj.data)

    monkeypatch.setattr(page, "display", display)
    return out


def _explain(tiny_spec, mode="gallery"):
    return page.explain(TEXT, "positive", note="n", pair=tiny_spec, slug="a-good-film",
                        title="A good film", mode=mode)


def test_record_is_complete_when_no_other_cell_ran(tiny_pair, tiny_spec, shown):
    ex = _explain(tiny_spec)
    page.record(ex)  # the only cell: it computes what it needs
    (bundle,) = shown
    data = bundle[record.MIME]
    assert json.loads(bundle["text/plain"]) == data
    r = record.parse(data, ALL)
    assert r.methods == ALL and r.title == "A good film" and r.note == "n" and r.pair == tiny_spec.slug
    assert list(r.faithfulness.trained) == [*ALL, "random"]
    assert len(r.head_change) == 2 and len(r.head_change[0]) == 2
    assert r.tokens == ex.sentence.tokens and r.n_tokens == len(ex.sentence)
    assert r.trained.predicted == ex.run.labels[ex.run.trained.predicted]
    # the same record whichever cells ran before
    again = _explain(tiny_spec)
    page.show_faithfulness(again)
    page.show_head_change(again)
    assert page.build_record(again) == r


def test_mode_decides_the_views(tiny_pair, tiny_spec, shown):
    page.show_sentence(_explain(tiny_spec, mode="gallery"))
    assert 'class="gallery-attention-data"' in shown[-1]
    stored = shown.bundles[-1][views.ATTENTION_MIME]  # what the build reads: the element's own data
    assert stored["id"] == "attention-a-good-film"
    assert views.blob_element(stored["id"], stored["blob"], stored["norms"]) in shown[-1]  # the norms: their file named
    assert shown.bundles[-1]["text/plain"] == "<IPython.core.display.HTML object>"  # as HTML(markup) shows it
    page.model_view(_explain(tiny_spec, mode="gallery"), "gained", "lost")
    assert 'class="gallery-bertviz"' in shown[-1]
    assert shown.bundles[-1][views.VIEW_MIME] == {"view": "model_view", "attentions": ["gained", "lost"]}
    page.show_sentence(_explain(tiny_spec, mode="jupyter"))
    assert "gallery-attention-data" not in shown[-1]
    with pytest.raises(ValueError, match="mode must be one of"):
        _explain(tiny_spec, mode="build")


def test_a_registered_method_reaches_the_page_the_record_and_the_set_pages(tiny_pair, tiny_spec,
                                                                            shown, monkeypatch):
    class FirstWord(Method):
        name, title, description = "first", "First word", "the first word, and nothing else."

        def attribute(self, sentence, run, target=None):
            scores = [1.0 if i == sentence.words[0] else 0.0 for i in range(len(sentence))]
            return Attribution(self.name, sentence.tokens, scores, run.predicted, {})

    monkeypatch.setitem(REGISTRY, "first", FirstWord())
    ex = _explain(tiny_spec)
    page.show_attributions(ex)
    assert "First word" in shown[-1] and "First word: the first word, and nothing else." in shown[-1]
    page.show_faithfulness(ex)
    assert "<td>First word</td>" in shown[-1]
    r = record.parse(page.build_record(ex).model_dump(mode="json"), list(REGISTRY))
    assert r.methods[-1] == "first" and "first" in r.faithfulness.trained
    metrics = pages.aggregate([r], catalog())
    assert list(metrics["faithfulness"]) == [*REGISTRY, "random"]
    assert "| First word |" in pages.faithfulness_page(metrics, catalog())
