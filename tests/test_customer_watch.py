"""A customer added by another process reaches this process's gazetteer without a restart."""

from __future__ import annotations

from pathlib import Path

from config.settings import load_settings
from crmsphere.runtime import open_runtime
from storage import open_store
from tests.conftest import customer, post


async def test_customers_changed_by_another_process_are_linked_after_one_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    settings = load_settings(overrides={"store": {"url": url},
                                        "nlp": {"customer_check_seconds": 0}})
    async with open_runtime(settings) as runtime:
        watch = runtime.customer_watch
        assert watch is not None
        assert not await watch.check_once()  # nothing changed since start-up

        before = await runtime.analyzer.analyse([post("1", "Zephyrine Widgets rocks")])
        assert before[0].links == ()

        other = await open_store(url)  # e.g. "crmsphere crm sync" run beside the server
        try:
            await other.upsert_customers([customer("cus_z", "Zephyrine Widgets")])
        finally:
            await other.close()

        assert await watch.check_once()
        after = await runtime.analyzer.analyse([post("2", "Zephyrine Widgets rocks")])
        assert [link.customer_id for link in after[0].links] == ["cus_z"]
        assert not await watch.check_once()  # reloaded once, not on every check


async def test_a_reload_by_this_process_is_not_repeated_by_the_watch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    settings = load_settings(overrides={"store": {"url": url},
                                        "nlp": {"customer_check_seconds": 0}})
    async with open_runtime(settings) as runtime:
        await runtime.store.upsert_customers([customer("cus_q", "Quillfeather Labs")])
        await runtime.reload_customers()
        assert not await runtime.customer_watch.check_once()
