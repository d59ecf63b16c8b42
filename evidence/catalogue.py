"""The PCI DSS requirement catalogue: which requirement ids a test may name, and their titles."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

# libyaml's safe loader when PyYAML has it (10x faster; the same documents load the same).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_PATH = Path(__file__).with_name("pci_dss_v4_0_1.yaml")


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    area: str
    addressed_by: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Catalogue:
    standard: str
    version: str
    path: Path
    requirements: dict[str, Requirement] = field(default_factory=dict)

    def __contains__(self, rid: str) -> bool:
        return rid in self.requirements

    def ordered(self) -> list[Requirement]:
        return sorted(self.requirements.values(), key=lambda r: sort_key(r.id))


def sort_key(rid: str) -> tuple:
    # "10.4.1.1" after "10.4.1" and "1.3.2" before "10.2.1": numeric, not lexical.
    return tuple(int(p) if p.isdigit() else p for p in rid.split("."))


def load(path: Path = DEFAULT_PATH) -> Catalogue:
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise CatalogueError(f"PCI DSS catalogue {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"PCI DSS catalogue {path} is not valid YAML: {exc}") from None
    problems: list[str] = []
    reqs: dict[str, Requirement] = {}
    for i, entry in enumerate((doc or {}).get("requirements") or []):
        rid, title = str(entry.get("id", "")).strip(), str(entry.get("title", "")).strip()
        if not rid or not title:
            problems.append(f"entry {i}: needs both id and title")
            continue
        if rid in reqs:
            problems.append(f"requirement {rid} is listed twice")
            continue
        reqs[rid] = Requirement(rid, title, str(entry.get("area", "")),
                                tuple(str(a) for a in entry.get("addressed_by") or ()),
                                str(entry.get("notes", "") or "").strip())
    if not reqs:
        problems.append("no requirements listed")
    if problems:
        raise CatalogueError(f"PCI DSS catalogue {path}: " + "; ".join(problems))
    return Catalogue(str(doc.get("standard", "")), str(doc.get("version", "")), path, reqs)


def marker_ids(marker) -> list[str]:
    """The requirement ids one ``@pytest.mark.control(...)`` names (one or more positional)."""
    ids = [str(a).strip() for a in marker.args]
    if not ids or any(not i for i in ids) or marker.kwargs:
        raise CatalogueError(f"@pytest.mark.control{marker.args!r}: name one or more requirement "
                             'ids as positional strings, e.g. @pytest.mark.control("4.2.1", "8.3.2")')
    return ids
