"""memo-sync: your Memo notes as a folder of Markdown files (docs/sync.md)."""
