"""Set up the analysts' notifications on a Prefect server: one webhook block, two automations.

``python -m flows.notify notifications.example.yaml --webhook URL`` reads the automations of
the file (see its comments), saves a Custom Webhook notification block that POSTs
``{"subject": ..., "body": ...}`` as JSON to ``URL``, and creates each automation with that
block, replacing an automation of the same name. Runs against ``PREFECT_API_URL``.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from pipeline.errors import ConfigError


def load_notifications(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(block name, automation documents) of a notifications file; problems name the file."""
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, f"cannot read notifications ({exc})") from None
    block, automations = doc.get("block"), doc.get("automations")
    if not block or not isinstance(automations, list) or not automations:
        raise ConfigError(path, "needs a 'block' name and a list of 'automations'")
    for i, item in enumerate(automations):
        if not isinstance(item, dict) or not item.get("name") or not item.get("trigger") \
                or not item.get("actions"):
            raise ConfigError(path, f"automation #{i + 1} needs a name, a trigger and actions")
    return str(block), automations


def save_webhook(name: str, url: str) -> UUID:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(
        name=name, url=url, method="POST", headers=None, cookies=None,
        json_data={"subject": "{{subject}}", "body": "{{body}}", "source": "{{name}}"})
    return cast(UUID, block.save(name, overwrite=True))


def install(path: Path, webhook_url: str) -> list[Any]:
    """Save the block and (re)create the file's automations; returns them as created."""
    from prefect.automations import Automation

    block_name, docs = load_notifications(path)
    for doc in docs:  # validate every document before anything is written to the server
        Automation.model_validate(_with_block(doc, UUID(int=0)))
    block_id = save_webhook(block_name, webhook_url)
    created = []
    for doc in docs:
        try:
            cast(Automation, Automation.read(name=doc["name"])).delete()
        except ValueError:  # not there yet
            pass
        created.append(Automation.model_validate(_with_block(doc, block_id)).create())
    return created


def _with_block(doc: dict[str, Any], block_id: UUID) -> dict[str, Any]:
    actions = [dict(a) for a in doc["actions"]]
    for action in actions:
        if action.get("type") in ("send-notification", "call-webhook"):
            action.setdefault("block_document_id", str(block_id))
    return {**doc, "actions": actions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--webhook", required=True, help="URL the notifications are POSTed to")
    args = parser.parse_args(argv)
    try:
        for automation in install(args.file, args.webhook):
            print(f"automation {automation.name}: {automation.id}")
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
