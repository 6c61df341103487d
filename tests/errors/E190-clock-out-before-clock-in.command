import timeclock hours.timeclock --dry-run
