"""The garbage-collection hold of a propagation (``ui/collector.py``)."""

import gc

import pytest

from napari_siamtrack.ui.collector import REFREEZE_EVERY, QuietCollector


@pytest.fixture
def unfrozen():
    if gc.get_freeze_count():
        pytest.skip("something in this process froze objects already")
    yield
    gc.unfreeze()


def test_holds_take_what_the_run_kept_out_of_the_collectors_view_every_few_batches(unfrozen):
    collector = QuietCollector()
    collector.hold()
    first = gc.get_freeze_count()
    kept = [[i] for i in range(1000)]  # what a batch keeps, such as the boxes it merged
    for _ in range(REFREEZE_EVERY - 1):
        collector.hold()
    assert _seen_by_collector(kept[0])
    collector.hold()
    assert gc.get_freeze_count() >= first + len(kept)
    assert not _seen_by_collector(kept[0])
    collector.release()
    assert gc.get_freeze_count() > 0 and gc.isenabled()  # held until the viewer is idle
    collector.hand_back()
    assert gc.get_freeze_count() == 0
    assert _seen_by_collector(kept[0])


def test_garbage_held_after_a_run_is_collected_when_handed_back(unfrozen):
    import weakref

    class Node:
        pass

    collector = QuietCollector()
    cycle = Node()
    cycle.self = cycle  # an object from before the run that dies in a reference cycle after it
    alive = weakref.ref(cycle)
    collector.start()
    collector.hold()
    collector.release()
    del cycle
    gc.collect()
    assert alive() is not None  # frozen: no collection frees it
    collector.hand_back()
    assert alive() is None and gc.get_freeze_count() == 0


def test_a_run_that_starts_before_the_hand_back_holds_the_objects_on(unfrozen):
    collector = QuietCollector()
    collector.start()
    collector.hold()
    collector.release()
    frozen = gc.get_freeze_count()
    collector.start()
    assert gc.isenabled()  # torch is loaded: nothing to wait for
    collector.hand_back()  # a late hand-back from the first run's end does nothing while one runs
    assert gc.get_freeze_count() == frozen
    kept = [[i] for i in range(100)]
    collector.hold()
    assert collector.holding and gc.get_freeze_count() >= frozen + len(kept)
    collector.release()
    collector.hand_back()
    assert gc.get_freeze_count() == 0


def test_garbage_of_the_run_is_collected_before_it_is_frozen(unfrozen):
    collector = QuietCollector()
    collector.hold()
    first = gc.get_freeze_count()
    for _ in range(REFREEZE_EVERY):
        cycle = [[]]
        cycle[0].append(cycle)  # garbage only a collection frees
        del cycle
        collector.hold()
    assert gc.get_freeze_count() - first < REFREEZE_EVERY
    collector.release()
    collector.hand_back()


def test_nothing_is_held_when_something_else_froze_objects(unfrozen):
    gc.freeze()
    frozen = gc.get_freeze_count()
    collector = QuietCollector()
    for _ in range(2):
        collector.hold()
        _ = [[i] for i in range(100)]
    assert gc.get_freeze_count() == frozen and not collector.holding
    collector.release()
    collector.hand_back()
    assert gc.get_freeze_count() == frozen


def test_collections_wait_from_the_start_of_a_run_until_its_first_hold(unfrozen):
    collector = QuietCollector()
    collector.start()
    assert not gc.isenabled() and gc.get_freeze_count() == 0
    collector.hold()
    assert gc.isenabled() and collector.holding
    collector.release()
    collector.hand_back()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_run_that_ends_before_its_first_hold_turns_collections_back_on(unfrozen):
    collector = QuietCollector()
    collector.start()
    collector.release()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_start_leaves_collections_on_when_something_else_froze_objects(unfrozen):
    gc.freeze()
    collector = QuietCollector()
    collector.start()
    assert gc.isenabled()
    collector.release()


def test_a_start_leaves_collections_off_when_something_else_turned_them_off(unfrozen):
    gc.disable()
    try:
        collector = QuietCollector()
        collector.start()
        collector.hold()
        collector.release()
        assert not gc.isenabled()
    finally:
        gc.enable()


def _seen_by_collector(obj) -> bool:
    """Whether a collection would scan ``obj`` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())
