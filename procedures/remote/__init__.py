"""Sets offsite: the rclone remote's listing, copies and downloads, the uploads store, transfer progress."""
