import pytest

from tests.samples import FOUND, SAMPLES, SHARED


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/platform-samples beside this checkout")
def test_copied_samples_match_the_shared_master_copy() -> None:
    def files(root):  # type: ignore[no-untyped-def]
        return {path.relative_to(root): path.read_bytes() for path in root.rglob("*") if path.is_file()}

    assert files(SAMPLES) == files(SHARED)


def test_every_payload_found_by_the_team_names_its_source() -> None:
    sources = (FOUND / "SOURCES.md").read_text(encoding="utf-8")
    found = [path.relative_to(FOUND).as_posix() for path in FOUND.rglob("*.json")]
    assert found
    assert [name for name in found if f"`{name}`" not in sources] == []
