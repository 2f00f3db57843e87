"""Which ERP item names reach Atlas: a rename made in the ERP, never a first sight, never a cut name. Pure."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.product_master import ProductMasterDiff

log = logging.getLogger(__name__)

# How many characters the ERP keeps of an item's name (SAP's ProductDescription). A name
# that fills the field may be the start of a longer one. NetSuite's display name is not limited so.
NAME_FIELD_LENGTH: dict[ErpType, int] = {ErpType.SAP_CLOUD: 40, ErpType.SAP_ONPREM: 40}


@dataclass
class NamePlan:
    """The renames to carry to Atlas, and the ERP names to remember as seen without a write."""

    carry: list[ProductMasterDiff] = field(default_factory=list)
    seen: list[tuple[int, str]] = field(default_factory=list)


def _plain(name: str) -> str:
    """Compared as text a person reads: case and runs of whitespace do not make another name."""
    return " ".join(name.split()).casefold()


def is_cut_of(short: str, long: str) -> bool:
    """`short` is `long` cut somewhere (e.g. at the ERP's field length), whitespace-trimmed."""
    short, long = _plain(short), _plain(long)
    return bool(short) and len(short) < len(long) and long.startswith(short)


def plan_names(diffs: Iterable[ProductMasterDiff], erp_type: ErpType | None = None) -> NamePlan:
    """Three-way, per mapped key, against the ERP name last seen (`erp_name_seen`):

    - the ERP name did not change (or only in case/whitespace): nothing, whatever Atlas holds — an
      Atlas-side name is the marketplace's own and stays;
    - it changed to what Atlas already holds: remembered as seen;
    - it changed to a cut of the Atlas name (the Atlas name starts with it): the longer name stays;
    - it changed to a name that fills the ERP's field while Atlas holds a longer one: it may be cut
      (SAP keeps 40 characters), so the Atlas name stays, and the log says so once;
    - otherwise it is carried; it becomes the name seen once the Atlas mirror shows it, so a write that
      fails for good is tried again next run, like a quantity.
    """
    plan = NamePlan()
    limit = NAME_FIELD_LENGTH.get(erp_type) if erp_type is not None else None
    for diff in diffs:
        erp, atlas, seen = diff.erp_name, diff.atlas_name, diff.erp_name_seen
        unchanged = seen is None or _plain(erp) == _plain(seen)
        if unchanged or _plain(erp) == _plain(atlas) or is_cut_of(erp, atlas):
            plan.seen.append((diff.mapping_id, erp))
            continue
        if limit is not None and len(erp.rstrip()) >= limit and len(atlas.strip()) > len(erp.strip()):
            log.warning(
                "item renamed in the ERP to %r (%d characters, the field's full length) for Atlas row %s: "
                "not carried over the longer Atlas name %r, which it may be cut from",
                erp, limit, diff.atlas_inventory_id, atlas,
            )  # fmt: skip
            plan.seen.append((diff.mapping_id, erp))
            continue
        plan.carry.append(replace(diff, erp_name=erp.strip()))
    return plan
