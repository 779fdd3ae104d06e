"""OS package inventory: release detection, end of life, dpkg/opkg, apk and rpm databases."""
