#!/usr/bin/env bash
# Checks the rendered book for broken local links.
#
#   mdbook build book && book/check-links.sh [RENDERED_DIR]
#
# Every href= and src= in the rendered HTML (and in mdBook's sidebar, toc.html)
# that points inside the book — a page, a diagram, a stylesheet — must name a
# file that exists, and a #fragment on a page must name an id on that page.
# Links with a scheme (https:, mailto:, …) are not followed: the book must
# render offline, and the network is not ours to test.
#
# Exits 0 when every local link resolves, 1 listing each broken one, 2 when
# there is no rendered book to check.
set -euo pipefail

book_dir=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$book_dir/book}")
if ! [ -f "$out/index.html" ]; then
    echo "check-links: no rendered book in $out: run 'mdbook build $book_dir' first" >&2
    exit 2
fi

broken=()
checked=0

# has_id FILE ID: whether FILE has an element with id="ID".
has_id() {
    grep -qF "id=\"$2\"" "$1"
}

while IFS= read -r -d '' page; do
    rel_page=${page#"$out"/}
    page_dir=$(dirname "$page")
    # 404.html is served from any depth, so mdBook gives it <base href="/">:
    # its relative links are relative to the root of the book.
    if grep -q '<base href=' "$page"; then
        page_dir=$out
    fi
    while IFS= read -r link; do
        [ -n "$link" ] || continue
        # another scheme (https:, mailto:, javascript:) or host (//…): not a local file
        if [[ "$link" =~ ^[a-zA-Z][a-zA-Z0-9+.-]*: || "$link" == //* ]]; then
            continue
        fi
        path=${link%%#*}
        path=${path%%\?*}
        fragment=
        [[ "$link" == *#* ]] && fragment=${link#*#}
        if [ -z "$path" ]; then
            target=$page          # "#section": a place on this page
        elif [[ "$path" == /* ]]; then
            target=$(realpath -m "$out$path")
        else
            target=$(realpath -m "$page_dir/$path")
        fi
        [[ "$path" == */ || -d "$target" ]] && target=$target/index.html
        checked=$((checked + 1))
        if [[ "$target" != "$out" && "$target" != "$out"/* ]]; then
            broken+=("$rel_page: $link (points outside the rendered book)")
        elif ! [ -f "$target" ]; then
            broken+=("$rel_page: $link (no file ${target#"$out"/})")
        elif [ -n "$fragment" ] && [[ "$target" == *.html ]] && ! has_id "$target" "$fragment"; then
            broken+=("$rel_page: $link (no id \"$fragment\" in ${target#"$out"/})")
        fi
    done < <(grep -oE '(href|src)="[^"]*"' "$page" | sed -E 's/^(href|src)="(.*)"$/\2/' | sort -u)
done < <(find "$out" -type f -name '*.html' -print0)

if [ "${#broken[@]}" -gt 0 ]; then
    echo "check-links: ${#broken[@]} broken local link(s) in $out:" >&2
    printf '  %s\n' "${broken[@]}" >&2
    exit 1
fi
echo "check-links: $checked local links checked in $out, none broken"
