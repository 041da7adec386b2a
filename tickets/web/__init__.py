"""The engineer app and the planners' dispatch board: a PWA served by `toir api` at /app."""
