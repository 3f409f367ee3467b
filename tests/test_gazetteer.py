"""The gazetteer: aliases, spelling variants, longest-alias-wins, leaders by date, bad files."""

from __future__ import annotations

import json
from datetime import date

import pytest

from signals.errors import SignalsError
from signals.gazetteer import Gazetteer


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def names(gaz: Gazetteer, text: str) -> list[str]:
    return [m.entity.name for m in gaz.mentions(text)]


@pytest.mark.parametrize("alias", [
    "KH", "Kataib Hezbollah", "Kata'ib Hezbollah", "Kata’ib Hezbollah", "Katai’b Hezbollah",
    "Hezbollah Brigades", "kataib hezbollah",
])
def test_kataib_hezbollah_aliases(gaz: Gazetteer, alias: str) -> None:
    assert names(gaz, f"A statement by {alias} on Monday.") == ["Kataib Hezbollah"]


@pytest.mark.parametrize("alias, group", [
    ("AAH", "Asaib Ahl al-Haq"), ("Asa'ib Ahl al-Haq", "Asaib Ahl al-Haq"),
    ("Nujaba Movement", "Harakat al-Nujaba"), ("KSS", "Kataib Sayyid al-Shuhada"),
    ("Sayyid al-Shuhada Brigades", "Kataib Sayyid al-Shuhada"),
    ("Badr Organization", "Badr Organization"),
    ("PMF", "Popular Mobilization Forces"), ("Hashd", "Popular Mobilization Forces"),
    ("Tansiqiya", "Iraqi Resistance Coordination Committee"),
    ("Haya al-Tansiqiya", "Iraqi Resistance Coordination Committee"),
    ("Iraqi Resistance Coordination", "Iraqi Resistance Coordination Committee"),
    ("IRI", "Islamic Resistance in Iraq"), ("Sabereen News", "Sabereen News"),
    ("the Houthis", "Ansar Allah"), ("Ansarallah", "Ansar Allah"),
    ("Yemeni Armed Forces", "Ansar Allah"), ("Loyalty to the Resistance bloc", "Hezbollah"),
    ("Kataib Jund al-Imam", "Kataib Jund al-Imam"), ("Saraya al-Khorasani", "Saraya al-Khorasani"),
])
def test_group_aliases(gaz: Gazetteer, alias: str, group: str) -> None:
    assert gaz.group_name(alias) == group
    assert [m.entity.group for m in gaz.mentions(f"Later {alias} said so.")] == [group]


def test_longest_alias_wins(gaz: Gazetteer) -> None:
    text = "Kataib Hezbollah and Lebanon's Hezbollah; Harakat Hezbollah al-Nujaba too."
    assert names(gaz, text) == ["Kataib Hezbollah", "Hezbollah", "Harakat al-Nujaba"]
    text = "Harakat Ansar Allah al-Awfiya is an Iraqi faction, unlike Ansar Allah."
    assert names(gaz, text) == ["Harakat Ansar Allah al-Awfiya", "Ansar Allah"]


@pytest.mark.parametrize("spelling, person", [
    ("Naim Qasem", "Naim Qassem"), ("Qassem", "Naim Qassem"), ("Qasem", "Naim Qassem"),
    ("Akram al-Ka'bi", "Akram al-Kaabi"), ("Kaabi", "Akram al-Kaabi"),
    ("Abdul Malik al-Houthi", "Abdul-Malik al-Houthi"), ("Al-Houthi", "Abdul-Malik al-Houthi"),
    ("Khazali", "Qais al-Khazali"), ("Askari", "Abu Ali al-Askari"),
    ("Yahya Sare’e", "Yahya Saree"), ("Kazim al-Fartousi", "Kadhim al-Fartousi"),
])
def test_people_spelling_variants(gaz: Gazetteer, spelling: str, person: str) -> None:
    found = gaz.mentions(f"On Monday {spelling} said it.")
    assert [m.entity.name for m in found] == [person]
    assert found[0].entity.kind == "person"


def test_surname_inside_another_name_is_not_the_leader(gaz: Gazetteer) -> None:
    assert names(gaz, "a memorial for Qassem Soleimani") == ["Qassem Soleimani"]
    assert names(gaz, "the late cleric Mohammad Hussein Fadlallah said") == []
    assert names(gaz, "Sheikh Qassem said") == ["Naim Qassem"]
    assert names(gaz, "Hezbollah's Qassem said") == ["Hezbollah", "Naim Qassem"]


def test_ordinary_words_are_not_names(gaz: Gazetteer) -> None:
    assert names(gaz, "the badr of the night; raad and amiri in lower case") == []


def test_leader_by_date(gaz: Gazetteer) -> None:
    assert gaz.leader("Hezbollah", date(2024, 3, 14)).name == "Hassan Nasrallah"
    assert gaz.leader("Hezbollah", date(2024, 11, 12)).name == "Naim Qassem"
    assert gaz.leader("Ansar Allah", None).name == "Abdul-Malik al-Houthi"
    assert gaz.leader("Sabereen News", None) is None


def test_others_are_not_militias(gaz: Gazetteer) -> None:
    centcom = gaz.entity("CENTCOM")
    assert centcom is not None and not centcom.militia
    assert gaz.group_name("CENTCOM") is None
    for name in ("Najib Mikati", "Nabih Berri", "Yoav Gallant", "Basim al-Awadi", "UKMTO"):
        assert not gaz.entity(name).militia, name


def write(tmp_path, data) -> object:
    path = tmp_path / "g.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("data, message", [
    ("{not json", "not a valid JSON gazetteer"),
    ({"people": []}, '"groups" list'),
    ({"groups": [{"aliases": ["X"]}]}, "needs a name"),
    ({"groups": [{"name": "A"}], "people": [{"name": "P", "group": "B"}]}, "unknown group 'B'"),
    ({"groups": [{"name": "A", "aliases": ["AB"]}, {"name": "B", "aliases": ["AB"]}]},
     "names both"),
])
def test_bad_gazetteer_files(tmp_path, data, message: str) -> None:
    with pytest.raises(SignalsError, match=message):
        Gazetteer.load(write(tmp_path, data))


def test_missing_gazetteer_file(tmp_path) -> None:
    with pytest.raises(SignalsError, match="no such gazetteer"):
        Gazetteer.load(tmp_path / "none.json")


def test_a_small_custom_gazetteer(tmp_path) -> None:
    data = {"groups": [{"name": "Saraya Example", "aliases": ["SE"]}],
            "people": [{"name": "Abu Test al-Example", "group": "Saraya Example",
                        "aliases": ["al-Example"]}]}
    gaz = Gazetteer.load(write(tmp_path, data))
    found = gaz.mentions("SE leader al-Example spoke")
    assert [(m.entity.name, m.entity.group) for m in found] == [
        ("Saraya Example", "Saraya Example"), ("Abu Test al-Example", "Saraya Example")]
