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


def test_a_default_that_would_rewrite_the_table_is_named_and_a_stable_one_is_not():
    sql = """
ALTER TABLE cdb_latiss.exposure ADD COLUMN a UUID DEFAULT gen_random_uuid() NOT NULL;
ALTER TABLE cdb_latiss.exposure ADD COLUMN b BIGINT DEFAULT nextval('cdb_latiss.b_seq'::regclass);
ALTER TABLE cdb_latiss.exposure ADD COLUMN c TIMESTAMP WITHOUT TIME ZONE DEFAULT now();
ALTER TABLE cdb_latiss.exposure ADD COLUMN d VARCHAR(8) DEFAULT 'f(x)'::character varying(8) NOT NULL;
ALTER TABLE cdb_latiss.exposure ADD COLUMN e INTEGER DEFAULT CAST(0 AS integer);
ALTER TABLE cdb_latiss.exposure ALTER COLUMN f TYPE BIGINT;
CREATE TABLE cdb_latiss.fresh (id INTEGER);
ALTER TABLE cdb_latiss.fresh ADD COLUMN g DOUBLE PRECISION DEFAULT random();
"""
    found = [warning for warning in lint_sql(sql) if warning.rule in ("table-rewrite", "column-type")]
    assert [(warning.rule, warning.table) for warning in found] == [
        ("table-rewrite", "cdb_latiss.exposure"), ("table-rewrite", "cdb_latiss.exposure"),
        ("column-type", "cdb_latiss.exposure"),
    ]  # fmt: skip
    assert found[0].message.startswith("adds column a with a default that calls gen_random_uuid(), which rewrites")
    assert found[1].message.startswith("adds column b with a default that calls nextval(), which rewrites")
    assert found[2].message.startswith("changes the type of f, which may rewrite the table")
    assert "the run refuses a rewrite of a table holding rows unless --allow-rewrite" in found[2].message
