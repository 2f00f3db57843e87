"""A profile database put back to an older copy: writes that landed since are not posted twice (SAP).

SAP posts a material document whatever its texts, so a write that landed after the copy was taken and
is pending again in the restored outbox would post twice if sent unasked. The sent mark next to the
database (store/sent_mark.py) tells the run; it then asks the ERP for every pending write first.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import open_services
from atlas_desktop.connectors.sap.connector import SapConnector
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.store.keys import MemoryKeySource
from tests.engine.test_sync_e2e import ATLAS_URL, World, _emulator

SALES = 6


class Profile:
    """One profile over one pair of emulators; closed and opened again around a restore."""

    def __init__(self, root: Path) -> None:
        options = SandboxOptions(catalog=Catalog(seed=7, size=40, today=date(2026, 11, 27)), seed=7)
        self.emulator, self.side, self.content = _emulator("sap", options, root / "keys")
        self.atlas = build_atlas(options)
        self.paths = ProfilePaths(root / "profile")
        self.keys = MemoryKeySource()
        self.connection_id = ""
        self._context: Any = None
        self.world: World | None = None

    def open(self) -> World:
        self._context = open_services(self.paths, key_source=self.keys)
        services = self._context.__enter__()
        if not self.connection_id:
            self.connection_id = services.connections.add(parse_connection(self.content))
            services.atlas_accounts.save(
                base_url=ATLAS_URL,
                auth_method="api_token",
                secrets={"api_token": Secret(self.atlas.api_token)},
            )
        engine = build_engine(
            services,
            transport=httpx.ASGITransport(app=self.emulator.app),
            atlas_options={"transport": httpx.ASGITransport(app=self.atlas.app)},
        )
        self.world = World(services, engine, self.connection_id, self.side, self.atlas)
        return self.world

    def close(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None

    def copy_aside(self, target: Path) -> None:
        """The database file as a backup takes it: every commit checkpointed into it first."""
        assert self.world is not None
        assert self.world.services.store.checkpoint()
        shutil.copy(self.paths.database, target)

    def restore(self, copy: Path) -> World:
        self.close()
        database = self.paths.database
        for suffix in ("-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        shutil.copy(copy, database)
        return self.open()


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[Profile]:
    made = Profile(tmp_path)
    made.open()
    yield made
    made.close()


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The keys of every posted_before request the SAP connector makes."""
    calls: list[list[str]] = []
    original = SapConnector.posted_before

    async def counted(self: SapConnector, keys: Any) -> Any:
        calls.append(list(keys))
        return await original(self, keys)

    monkeypatch.setattr(SapConnector, "posted_before", counted)
    return calls


def _stock(world: World) -> list[tuple[Any, Decimal | None, Decimal]]:
    mappings = world.engine.repos.mappings.page(
        world.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=1000
    )
    return [(m, m.atlas_quantity, world.erp.stock(m)) for m in mappings]


def _sell(world: World) -> dict[str, Decimal]:
    """SALES Atlas sales of one unit each; returns the mappings sold (by Atlas row) and their quantity."""
    sold: dict[str, Decimal] = {}
    for mapping, atlas_quantity, erp_quantity in _stock(world):
        if len(sold) == SALES:
            break
        if atlas_quantity is not None and atlas_quantity >= 2 and atlas_quantity == erp_quantity:
            world.atlas.sell(mapping.atlas_inventory_id, Decimal(1))
            sold[mapping.atlas_inventory_id] = atlas_quantity - 1
    assert len(sold) == SALES
    return sold


def _copy_before_first_wave(world: World, copy: Path, profile: Profile) -> Callable[[], bool]:
    """Take the copy inside the run, after its writes were planned and recorded, before they leave."""
    repo = world.engine.repos.decisions
    original = repo.mark_sending_many
    taken: list[bool] = []

    def mark_sending_many(outbox_ids: Any) -> Any:
        if not taken:
            profile.copy_aside(copy)
            taken.append(True)
        return original(outbox_ids)

    repo.mark_sending_many = mark_sending_many
    return lambda: bool(taken)


def _assert_posted_once(profile: Profile) -> None:
    texts = Counter(
        item.get("MaterialDocumentItemText") for item in profile.emulator.material_document_items()
    )
    headers = Counter(h.get("MaterialDocumentHeaderText") for h in profile.emulator.material_documents())
    twice = {text: n for text, n in [*texts.items(), *headers.items()] if text and n > 1}
    assert not twice, twice


@pytest.mark.parametrize("copied", ["before the run", "after the plan, before the push"])
async def test_a_restored_older_database_posts_no_sap_document_twice(
    profile: Profile, tmp_path: Path, asked: list[list[str]], copied: str
) -> None:
    world = profile.world
    assert world is not None
    cid = world.connection_id
    await world.engine.discover(cid)
    first = await world.engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    sold = _sell(world)
    copy = tmp_path / "atlas-copy.db"
    if copied == "before the run":
        profile.copy_aside(copy)
    else:
        was_taken = _copy_before_first_wave(world, copy, profile)
    postings = world.erp.postings()

    pushed = await world.engine.sync(cid)
    assert pushed.status is RunStatus.SUCCESS, pushed.error_message
    assert copied == "before the run" or was_taken()
    landed = world.erp.postings()
    assert landed > postings  # the sales reached SAP

    world = profile.restore(copy)
    asked.clear()
    again = await world.engine.sync(cid)

    assert again.status is RunStatus.SUCCESS, again.error_message
    _assert_posted_once(profile)
    assert world.erp.postings() == landed  # nothing more posted
    ended = _stock(world)
    # Settled: the next run sends its pending writes unasked again.
    asked.clear()
    _sell(world)
    after = await world.engine.sync(cid)
    assert after.status is RunStatus.SUCCESS, after.error_message
    assert asked == []
    _assert_posted_once(profile)

    if copied == "before the run":
        pytest.xfail(
            "a copy older than the decision: the pull reads the SAP write that landed as an ERP change, "
            "so the replanned decision moves Atlas by the sale a second time (SAP is not posted twice)"
        )
    for mapping, atlas_quantity, erp_quantity in ended:
        if mapping.atlas_inventory_id in sold:
            assert (atlas_quantity, erp_quantity) == (sold[mapping.atlas_inventory_id],) * 2, mapping
        else:
            assert atlas_quantity == erp_quantity, mapping


async def test_a_run_after_a_clean_run_asks_sap_nothing(profile: Profile, asked: list[list[str]]) -> None:
    world = profile.world
    assert world is not None
    cid = world.connection_id
    await world.engine.discover(cid)
    assert (await world.engine.sync(cid, approve=True)).status is RunStatus.SUCCESS
    _sell(world)
    postings = world.erp.postings()
    asked.clear()

    run = await world.engine.sync(cid)

    assert run.status is RunStatus.SUCCESS, run.error_message
    assert world.erp.postings() > postings
    assert asked == []
