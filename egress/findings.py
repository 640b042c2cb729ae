"""What the automatic checks found, as codes with arguments: ``scope.outside`` and
``{"columns": "fee"}``. The English text of each code is here; the console translates the
same text through its catalogs (the ``N_`` marks let the extractor find them), so a finding
reads in the user's language while the API and the ledger keep the code."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    return message


FINDINGS = {
    "scope.outside": N_("the job read data outside the grant"),
    "scope.unusable": N_("the grant is %(status)s or expired"),
    "scope.other_product": N_(
        "every output column traces to granted columns, but the product %(product)s is not "
        "among the application's products (%(products)s): the reviewer confirms it fits"),
    "scope.ok": N_("every output column traces to granted columns of grant %(grant)s (scenario "
                   "%(scenario)s) and the product is one the application named"),
    "scope.ok_inexact": N_(
        "every output column traces to granted columns of grant %(grant)s (scenario "
        "%(scenario)s) and the product is one the application named; the trace is by the "
        "columns the query mentions"),
    "sources.undeclared": N_("declared sources differ from the data read (undeclared: "
                             "%(undeclared)s)"),
    "sources.unread": N_("declared sources differ from the data read (declared but not read: "
                         "%(unread)s)"),
    "sources.both": N_("declared sources differ from the data read (undeclared: "
                       "%(undeclared)s; declared but not read: %(unread)s)"),
    "sources.ok": N_("declared sources equal the datasets read"),
    "pii.found": N_("the output holds personal or identifying information"),
    "pii.pseudonyms": N_("columns carry pseudonyms of personal identifiers, which are still "
                         "personal information (%(pairs)s)"),
    "pii.found_and_pseudonyms": N_(
        "the output holds personal or identifying information; columns carry pseudonyms of "
        "personal identifiers, which are still personal information (%(pairs)s)"),
    "pii.none": N_("no PII found in %(columns)s columns, %(rows)s rows"),
    "cross_border.abroad": N_("the product goes abroad: it needs %(extra)s extra approval(s) and "
                              "a cross-border assessment by the reviewers"),
    "cross_border.home": N_("the product stays in the country"),
    "raw.identifiers": N_("output columns carry raw identifiers of the source (%(pairs)s)"),
    "raw.aggregate": N_("aggregate output: no row of the source leaves"),
    "raw.untraced": N_("row-level output whose columns trace to no source column: its exposure "
                       "cannot be assessed"),
    "raw.no_quasi": N_(
        "row-level output of %(levels)s data, and no column of it is a quasi-identifier tagged "
        "in the catalog: k-anonymity cannot be measured (the provider tags them), so the rows "
        "may not leave unless a reviewer overrides"),
    "raw.not_k_anonymous": N_("row-level output of %(levels)s data is not %(k)s-anonymous on "
                              "%(columns)s, as the policy needs"),
    "raw.k_anonymous": N_("row-level output, at least %(k)s-anonymous on %(columns)s: the "
                          "reviewer confirms it may leave"),
    "secrets.cell_keys": N_("confidential columns would leave as cell keys (%(pairs)s)"),
    "secrets.rows": N_("confidential columns would leave at row level (%(pairs)s)"),
    "secrets.none": N_("no confidential column leaves at row level"),
    "disclosure.row": N_("not an aggregate output (see raw_exposure)"),
    "disclosure.ok": N_("%(cells)s cells pass every disclosure-control rule"),
    "disclosure.flagged": N_("disclosure control: %(summary)s"),
    "disclosure.suppressed": N_("%(suppressed)s cells suppressed (%(secondary)s to protect "
                                "margins): disclosure control: %(summary)s"),
    "disclosure.not_reproduced": N_(
        "the statistics run did not reproduce the output's cells (is the query deterministic?): "
        "what is released cannot be assessed"),
    "disclosure.not_computed": N_("the disclosure statistics could not be computed: %(error)s"),
    "disclosure.dp": N_(
        "differentially private output (epsilon %(epsilon)s, delta 0, %(cells)s cells, at most "
        "%(contributions)s row(s) per person): the small-cell and dominance rules are not "
        "needed"),
    "disclosure.dp_consent_changed": N_(
        "consents of %(datasets)s changed after this DP output was made: run the job again "
        "before asking for its release"),
    "differencing.dp": N_("differentially private output: the grant's privacy budget bounds "
                          "what differences between its outputs tell"),
    "differencing.row": N_("not an aggregate output"),
    "differencing.recoverable": N_(
        "%(n)s suppressed cell(s) could be recovered by subtraction once this output is released "
        "(e.g. %(cell)s, suppressed in %(suppressed_in)s, from %(completed_by)s): suppress more "
        "cells or leave out the margin"),
    "differencing.close": N_(
        "%(n)s cell(s) differ from another output's or margin's by fewer than %(threshold)s "
        "source rows (e.g. %(cell)s against %(compared_with)s), which isolates those rows"),
    "differencing.ok": N_("no cell differs from %(compared)s other output(s) or its own margins "
                          "by fewer than %(threshold)s source rows"),
    # Why an output's cells cannot be traced to their contributors (its shape is unknown).
    "shape.subquery_source": N_("the aggregate reads a subquery: its cells' contributors cannot "
                                "be counted (aggregate the granted datasets directly)"),
    "shape.derived_source": N_(
        "the aggregate reads %(name)s, a CTE or an earlier output of the workspace: its cells' "
        "contributors cannot be counted (aggregate the granted datasets directly)"),
    "shape.set_operation": N_("the query combines several SELECTs (UNION, INTERSECT, ...): its "
                              "cells cannot be traced to their contributors"),
    "shape.row": N_("each output row is a row of the source data (no aggregation)"),
    "shape.star": N_("SELECT * in an aggregate query: name the output columns"),
    "shape.window": N_("a window function in an aggregate query: its cells cannot be traced to "
                       "their contributors"),
    "shape.subquery_select": N_("a subquery in the select list: its cells cannot be traced"),
    "shape.columns_mismatch": N_("the output's columns do not match the select list"),
}


def text(code: str, args: dict[str, Any] | None = None, translate=lambda s: s) -> str:
    """The finding ``code`` in words (English unless ``translate`` is a gettext), its
    arguments filled in."""
    return translate(FINDINGS[code]) % (args or {}) if "%(" in FINDINGS[code] \
        else translate(FINDINGS[code])


def traced_pairs(mapping: dict[str, str]) -> str:
    """``{"out": "visits.id"}`` → ``out <- visits.id`` (an output column and its source)."""
    return ", ".join(f"{column} <- {source}" for column, source in mapping.items())
