import pytest

from tests.samples import SAMPLES, SHARED


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/platform-samples beside this checkout")
def test_copied_samples_match_the_shared_master_copy() -> None:
    def files(root):  # type: ignore[no-untyped-def]
        return {path.relative_to(root): path.read_bytes() for path in root.rglob("*") if path.is_file()}

    assert files(SAMPLES) == files(SHARED)
