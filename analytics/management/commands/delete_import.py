"""`python manage.py delete_import ID [--yes]`: take an import back. Says what would go and asks, unless
--yes; exits non-zero when the batch cannot be deleted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.services.import_deletion import ImportDeletion, import_batch_delete, import_batch_deletion_preview
from retail_platform.errors import ApplicationError


def describe(deletion: ImportDeletion) -> list[str]:
    lines = [
        f"Import batch {deletion.batch_id} ({deletion.file_name}): {deletion.lines:,} lines "
        f"(net {deletion.net_sales}), {deletion.customers:,} customers left with no line.",
    ]
    if deletion.lines_kept:
        lines.append(f"  {deletion.lines_kept:,} of its lines stay: a remaining import also delivered them.")
    lines += [f"  {store}: {count:,} lines" for store, count in deletion.stores.items()]
    lines += [f"  {kind} left with no line: {', '.join(names)}" for kind, names in deletion.dimensions.items() if names]
    return lines


class Command(BaseCommand):
    help = "Delete an import batch: its lines, and everything computed from them, as if it had never been imported."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch_id", type=int)
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, batch_id: int, yes: bool = False, **options: Any) -> None:
        try:
            if not yes:
                preview = import_batch_deletion_preview(batch_id=batch_id)
                self.stdout.write("This goes:\n" + "\n".join(describe(preview)))
                if input("Delete it? [y/N] ").strip().lower() not in ("y", "yes"):
                    raise CommandError("Nothing was deleted.")
            deletion = import_batch_delete(batch_id=batch_id)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write("Deleted:\n" + "\n".join(describe(deletion)))
