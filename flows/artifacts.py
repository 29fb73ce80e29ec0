"""What each compared pair leaves in Prefect: a lead table, a Markdown summary, an event.

- table artifact ``leads-<region>-<before>-<after>``: the pair's leads, most urgent first;
- markdown artifact ``summary-<region>-<before>-<after>``: counts, detector and cut, links to the
  run folder and (with ``$LANDPATROL_WEB_URL``) the web app's lead pages;
- event ``landpatrol.leads.priority-1`` on resource ``landpatrol.region.<region>`` when the pair
  created priority-1 leads, which a Prefect automation can turn into a notification
  (``notifications.example.yaml``, :mod:`flows.notify`).

Keys are stable per region and pair, so the Prefect UI keeps every version of them.
"""
from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event

from flows.names import pair_title
from pipeline.i18n import t
from pipeline.runsummary import artifact_key, lead_rows, priority_one, summary_markdown

PRIORITY_ONE_EVENT = "landpatrol.leads.priority-1"


def publish_pair(plan: Any, report: Any) -> None:
    """Publish the artifacts and the priority-1 event of one pair (inside a flow run)."""
    req = plan.request
    where = f"{req.region} {req.tile}" if req.tile else req.region  # a region of several tiles
    title = pair_title(where, report.before_date, report.after_date)
    detector = f"{plan.detector.name} {plan.detector.version}"
    threshold = plan.parameters.get("threshold")
    args = (f"{report.region}-{req.tile}" if req.tile else report.region, report.before_date,
            report.after_date)
    create_markdown_artifact(
        markdown=summary_markdown(report, title, detector, threshold),
        key=artifact_key("summary", *args), description=t("run.summary", title=title))
    if report.skipped:
        return
    create_table_artifact(table=lead_rows(report), key=artifact_key("leads", *args),
                          description=t("run.leads_table", title=title))
    codes = priority_one(report)
    if codes:
        emit_event(
            event=PRIORITY_ONE_EVENT,
            resource={"prefect.resource.id": f"landpatrol.region.{report.region.lower()}",
                      "prefect.resource.name": req.region},
            payload={"codes": codes, "count": len(codes), "pair": title,
                     "out_dir": report.out_dir, "detector": detector, "threshold": threshold,
                     "text": t("run.p1_event", region=req.region, count=len(codes))})
