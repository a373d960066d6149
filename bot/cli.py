"""The `crosstrack` command line (typer)."""

from __future__ import annotations

import logging

import typer

from bot.settings import get_settings

app = typer.Typer(
    help="crosstrack: cross-department project tracking in Feishu and DingTalk chats.", no_args_is_help=True
)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def migrate() -> None:
    """Upgrade the database to the latest schema."""
    from storage.migrate import upgrade

    _configure_logging()
    upgrade(get_settings().database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default CROSSTRACK_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default CROSSTRACK_PORT or 8000)."),
) -> None:
    """Apply migrations, then serve the webhooks and the JSON API."""
    import uvicorn

    from bot.main import create_app
    from storage.migrate import upgrade

    _configure_logging()
    settings = get_settings()
    upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_config=None)


if __name__ == "__main__":
    app()
