"""The lint of a plan's SQL: ConsDB's own rules, the views rule, and squawk's, each said once."""

from __future__ import annotations

from bot.engine.lint import lint_sql

PLAN = """
BEGIN;
ALTER TABLE cdb_latiss.exposure ADD COLUMN dimm_fwhm INTEGER NOT NULL;
CREATE INDEX idx_exposure_dimm ON cdb_latiss.exposure (dimm_fwhm);
ALTER TABLE cdb_latiss.exposure_quicklook ADD CONSTRAINT fk_q FOREIGN KEY (exposure_id)
    REFERENCES cdb_latiss.exposure (exposure_id);
UPDATE cdb.cdb_latiss_version SET version_num='b' WHERE cdb.cdb_latiss_version.version_num = 'a';
COMMIT;
"""


def test_each_danger_is_named_once_with_its_table_and_the_safer_form():
    found = {(warning.rule, warning.table): warning.message for warning in lint_sql(PLAN)}
    assert set(found) == {
        ("not-null-without-default", "cdb_latiss.exposure"),
        ("index-not-concurrent", "cdb_latiss.exposure"),
        ("views-not-rebuilt", "cdb_latiss.exposure"),
        ("squawk:adding-foreign-key-constraint", "cdb_latiss.exposure_quicklook"),
        ("squawk:constraint-missing-not-valid", "cdb_latiss.exposure_quicklook"),
    }
    assert "add it nullable, fill it, then set NOT NULL" in found[("not-null-without-default", "cdb_latiss.exposure")]
    assert "drop visit1 first" in found[("views-not-rebuilt", "cdb_latiss.exposure")]
    assert "NOT VALID" in found[("squawk:adding-foreign-key-constraint", "cdb_latiss.exposure_quicklook")]


def test_a_change_of_exposure_that_makes_the_views_again_is_not_flagged():
    sql = """
DROP VIEW IF EXISTS cdb_latiss.visit1;
ALTER TABLE cdb_latiss.exposure ADD COLUMN dimm_fwhm FLOAT;
CREATE VIEW cdb_latiss.visit1 AS SELECT b.exposure_id AS visit_id, b.dimm_fwhm FROM cdb_latiss.exposure AS b;
"""
    assert [warning.rule for warning in lint_sql(sql)] == []
