"""The public API is exactly what __all__ says, sorted, and each name is importable."""

import campuslake


def test_all_is_sorted_and_every_name_exists():
    assert campuslake.__all__ == sorted(campuslake.__all__)
    for name in campuslake.__all__:
        assert getattr(campuslake, name) is not None


def test_nothing_public_is_missing_from_all():
    public = {name for name in dir(campuslake) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(campuslake, name)).__name__ == "module"}
    assert public - modules == set(campuslake.__all__)
    assert campuslake._MODULES.keys() == set(campuslake.__all__)


def test_the_library_runs_without_the_cli(tmp_path):
    from campuslake.synth import generate_alumni

    manifest = generate_alumni(tmp_path / "in", rows=300, files=2, seed=1, bad_files=False)
    lake = campuslake.Lake.open(campuslake.load_settings(lake=str(tmp_path / "lake")))
    landed = [campuslake.land_file(lake, "alumni", path) for path in manifest.files]
    result = campuslake.run_pending(lake, "alumni")
    assert [b.batch_id for b in result.batches] == [f.batch_id for f in landed]
    assert sum(b.rows_in for b in result.batches) == manifest.rows
    session = campuslake.QuerySession(lake)
    assert session.query("select count(*) as n from alumni_current") == [{"n": manifest.alumni}]
    session.close()
    lake.close()
