#!/usr/bin/env bash
# Refreshes the vendored NHS.UK frontend (compiled CSS, JS and assets) from the npm registry.
# The pages must make no third-party request, so the @font-face rules that load Frutiger from
# assets.nhs.uk are removed (the design system's own fallback stack, Arial, is used) and the
# CSS's absolute /assets/ URLs become relative to where the kit serves the CSS.
# Usage: infra/scripts/refresh-nhsuk-frontend.sh [VERSION]   (match nhsuk-frontend-jinja's table)
set -euo pipefail
version="${1:-10.6.1}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$here/services/common/web/static/nhsuk"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "nhsuk-frontend@$version" --silent >/dev/null && tar xzf "nhsuk-frontend-$version.tgz")
dist="$work/package/dist/nhsuk"
rm -rf "$dest"
mkdir -p "$dest"
cp -r "$dist/assets" "$dest/assets"
cp "$dist/nhsuk-frontend.min.js" "$dest/nhsuk-frontend.min.js"
python3 - "$dist/nhsuk-frontend.min.css" "$dest/nhsuk-frontend.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r"@font-face\{[^}]*assets\.nhs\.uk[^}]*\}", "", css)
css = css.replace("url(/assets/", "url(assets/")
css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
assert "://" not in css, "the CSS still names another origin"
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
sed -i 's#//\# sourceMappingURL=.*$##' "$dest/nhsuk-frontend.min.js"
cat > "$dest/VERSION" <<TXT
nhsuk-frontend $version (npm), MIT licence, Crown copyright NHS England.
Compiled dist/nhsuk: nhsuk-frontend.min.css (Frutiger @font-face rules removed, asset URLs made
relative), nhsuk-frontend.min.js and assets/. Refreshed by infra/scripts/refresh-nhsuk-frontend.sh.
TXT
echo "vendored nhsuk-frontend $version into $dest"
