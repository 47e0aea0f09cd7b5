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


def test_a_change_of_exposure_that_makes_the_views_again_as_upstream_is_not_flagged_by_the_views_rules():
    sql = """
DROP VIEW IF EXISTS "cdb_latiss"."visit1";
ALTER TABLE cdb_latiss.exposure ADD COLUMN dimm_fwhm FLOAT;
CREATE VIEW "cdb_latiss"."visit1" AS
SELECT
    "exposure_id" AS "visit_id",
    "day_obs",
    "dimm_fwhm"
FROM "cdb_latiss"."exposure";
ALTER TABLE cdb_latiss.ccdexposure RENAME COLUMN seeing TO psf_sigma;
CREATE OR REPLACE VIEW cdb_latiss.ccdvisit1 AS
        SELECT ccdexposure_id AS ccdvisit_id, exposure_id AS visit_id, psf_sigma
        FROM cdb_latiss.ccdexposure;
"""
    assert [warning.rule for warning in lint_sql(sql) if warning.rule.startswith("view")] == []


def test_a_view_made_again_with_a_row_filter_or_without_the_changed_column_is_flagged():
    sql = """
ALTER TABLE cdb_latiss.exposure ADD COLUMN dimm_fwhm FLOAT;
CREATE VIEW cdb_latiss.visit1 AS SELECT b.exposure_id AS visit_id, b.day_obs FROM cdb_latiss.exposure AS b
    WHERE b.can_see_sky IS TRUE;
CREATE VIEW cdb_latiss.ccdvisit1 AS SELECT ccdexposure_id, exposure_id AS visit_id FROM cdb_latiss.ccdexposure;
"""
    found = {(warning.rule, warning.table): warning.message for warning in lint_sql(sql)}
    assert set(found) == {
        ("views-not-rebuilt", "cdb_latiss.exposure"),
        ("view-not-as-upstream", "cdb_latiss.visit1"),
        ("view-not-as-upstream", "cdb_latiss.ccdvisit1"),
    }
    assert "visit1 is made again without it" in found[("views-not-rebuilt", "cdb_latiss.exposure")]
    assert "upstream's views keep every row" in found[("view-not-as-upstream", "cdb_latiss.visit1")]
    assert "does not show ccdvisit_id" in found[("view-not-as-upstream", "cdb_latiss.ccdvisit1")]
