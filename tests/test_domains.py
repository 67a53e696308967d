"""The registry (tether.domains) and the tree agree: every domain has each of its parts,
every folder that holds domain parts belongs to a domain, and yoyo.ini lists the same
migration folders, in the same order, as tether applies."""

import configparser
from pathlib import Path

import pytest

from tether import domains, migrations, stories
from tether.errors import Rule

ROOT = Path(__file__).resolve().parent.parent
PARTS = (
    "migrations/{name}",
    "sql/{name}",
    "src/tether/{name}/records.py",
    "src/tether/{name}/repositories.py",
    "src/tether/{name}/rules.py",
    "src/tether/{name}/story.py",
    "tests/{name}/reliability.py",
    "benchmarks/{name}/__init__.py",
    "docs/{name}.md",
)
NAMES = [domain.name for domain in domains.DOMAINS]


@pytest.mark.parametrize("name", NAMES)
def test_every_domain_has_every_part(name):
    missing = [
        part.format(name=name) for part in PARTS if not (ROOT / part.format(name=name)).exists()
    ]
    assert missing == []
    domain = domains.get(name)
    assert domain.migrations == ROOT / "migrations" / name
    assert domain.queries == ROOT / "sql" / name
    assert all(isinstance(rule, str | Rule) for rule in domain.rules().values())
    assert callable(stories.story(domain))
    assert all(p.name.startswith(f"{name}_") for p in domain.migrations.glob("*.sql"))


# The packages of src/tether that are core, not domains.
CORE_PACKAGES = {"check", "distribution", "embedded"}


def test_every_folder_of_domain_parts_belongs_to_a_domain():
    def folders(root: str, ignore: set[str]) -> set[str]:
        return {
            p.name
            for p in (ROOT / root).iterdir()
            if p.is_dir() and not p.name.startswith((".", "_")) and p.name not in ignore
        }

    assert folders("migrations", {"common"}) == set(NAMES)
    assert folders("sql", {"catalog"}) == set(NAMES)
    assert folders("src/tether", CORE_PACKAGES) == set(NAMES)
    assert folders("benchmarks", {"sql"}) == set(NAMES)
    assert folders("tests", {"reliability"}) == set(NAMES)
    assert {p.stem for p in (ROOT / "docs").glob("*.md")} >= set(NAMES)


def test_yoyo_ini_lists_what_tether_applies_in_the_same_order():
    config = configparser.ConfigParser()
    config.read(ROOT / "yoyo.ini")
    listed = config["DEFAULT"]["sources"].split()
    assert [ROOT / s for s in listed] == migrations.sources()
    assert "database" not in config["DEFAULT"]


def test_a_domain_package_imports_with_its_parts():
    for domain in domains.DOMAINS:
        package = domain.module()
        assert package.__name__ == f"tether.{domain.name}"
        assert package.__doc__ and domain.name in package.__doc__
        assert domain.rules() == domain.module("rules").RULES
        assert domain.module("story").play is stories.story(domain)


def test_every_part_of_a_domain_is_named_by_one_convention():
    chat = domains.get("chat")
    assert chat.module_name() == "tether.chat"
    assert chat.module_name("repositories") == "tether.chat.repositories"
    assert chat.module_name(within="benchmarks") == "benchmarks.chat"
    assert chat.module_name("reliability", within=None) == "chat.reliability"
    with pytest.raises(ModuleNotFoundError, match=r"tether\.chat\.nothing"):
        chat.module("nothing")


def test_unknown_domains_are_refused_by_name():
    with pytest.raises(ValueError, match=r"no domain 'nope' \(there are: "):
        domains.select(["planner", "nope"])
    assert domains.select(None) == domains.DOMAINS
    assert domains.select([]) == domains.DOMAINS
    assert [d.name for d in domains.select(["planner"])] == ["planner"]
