"""Building the gazetteer runs no garbage collection: every object it makes outlives it.

With 100k customers the collector's full passes over the growing registry were ~2 of the
5 s CPU of `crmsphere analyze`'s start-up and freed nothing. Counted, not timed: the
collector's own callbacks say which generations it collected while the pipeline was built.
"""

from __future__ import annotations

import gc

from nlp.pipeline import build_pipeline, collection_paused
from tests.nlp.registry import make_registry


def _collections_during(action) -> list[int]:
    generations: list[int] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        action()
    finally:
        gc.callbacks.remove(record)
    return generations


def test_building_a_large_gazetteer_collects_nothing() -> None:
    customers = make_registry(30_000)
    assert gc.isenabled()
    assert _collections_during(lambda: build_pipeline(customers)) == []
    assert gc.isenabled()  # and the collector is back on afterwards


def test_the_pause_ends_even_when_the_build_fails() -> None:
    assert gc.isenabled()
    try:
        with collection_paused():
            assert not gc.isenabled()
            raise ValueError("a bad registry")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_pause_inside_a_pause_leaves_the_outer_one_in_force() -> None:
    with collection_paused():
        with collection_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
