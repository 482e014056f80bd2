"""The five alumni-outcome answers, as SQL views over `alumni_current`.

Top employees per department are ranked by rating (highest first), then by employee id
(lowest first): a documented, deterministic tie-break that needs nothing but the row itself.
"""

from __future__ import annotations

from typing import Any

from campuslake.engines import Engine


def answer_views(excellent_threshold: int, top_n: int, source: str = "alumni_current") -> dict[str, str]:
    """View name -> SQL for each answer (DuckDB dialect)."""
    excellent = f"count(*) FILTER (WHERE performance_rating >= {int(excellent_threshold)})"
    return {
        "answer_degrees": f"""
            SELECT college_degree, count(*) AS alumni, round(avg(performance_rating), 4) AS avg_rating
            FROM {source} GROUP BY college_degree
            ORDER BY avg_rating DESC, college_degree""",
        "answer_campuses": f"""
            SELECT campus, count(*) AS alumni, {excellent} AS excellent,
                   round({excellent} / count(*), 4) AS excellent_rate,
                   round(avg(performance_rating), 4) AS avg_rating
            FROM {source} GROUP BY campus
            ORDER BY excellent DESC, excellent_rate DESC, campus""",
        "answer_departments": f"""
            SELECT department, count(*) AS alumni, round(avg(performance_rating), 4) AS avg_rating,
                   {excellent} AS excellent
            FROM {source} GROUP BY department
            ORDER BY alumni DESC, department""",
        "answer_job_roles": f"""
            SELECT job_role, count(*) AS alumni
            FROM {source} GROUP BY job_role
            ORDER BY alumni DESC, job_role""",
        "answer_top_employees": f"""
            SELECT department, rank, employee_id, employee_name, job_role, campus, performance_rating
            FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY department ORDER BY performance_rating DESC, employee_id ASC) AS rank
                FROM {source}
            ) WHERE rank <= {int(top_n)}
            ORDER BY department, rank""",
    }


def five_answers(engine: Engine) -> dict[str, Any]:
    """The answers as one JSON-ready document (the `report alumni --json` shape)."""
    top: dict[str, list[dict[str, Any]]] = {}
    for row in engine.rows("SELECT * FROM answer_top_employees"):
        department = row.pop("department")
        row.pop("rank")
        top.setdefault(department, []).append(row)
    return {
        "alumni": engine.scalar("SELECT count(*) FROM alumni_current") or 0,
        "degrees": engine.rows("SELECT * FROM answer_degrees"),
        "campuses": engine.rows("SELECT * FROM answer_campuses"),
        "departments": engine.rows("SELECT * FROM answer_departments"),
        "job_roles": engine.rows("SELECT * FROM answer_job_roles"),
        "top_employees": top,
    }
