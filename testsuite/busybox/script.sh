# A real-program workload for busybox `sh`: deterministic data through
# pipes of sort, uniq, md5sum, gzip/gunzip, sed, tr, cut, grep, wc, head,
# tail, awk and a while-read loop. Run as `busybox sh script.sh WORKDIR`;
# every line of output is compared with the reference run.
set -e
work=${1:?usage: script.sh WORKDIR}
cd "$work"

# Deterministic data: 2000 lines "key value word" from a linear
# congruential generator in awk (all values stay exact in a double).
awk 'BEGIN { x = 12345; for (i = 1; i <= 2000; i++) {
        x = (x * 75 + 74) % 65537
        printf "%d %d w%d\n", i, x % 1000, x % 37 } }' > data.txt
echo "lines: $(wc -l < data.txt)"
echo "md5 data: $(md5sum < data.txt)"

echo "== sort / uniq"
cut -d' ' -f3 data.txt | sort | uniq -c | sort -n -r -k1,1 -k2 | head -n 5
cut -d' ' -f2 data.txt | sort -n -r | head -n 3
cut -d' ' -f2 data.txt | sort -n | uniq | wc -l
sort -k2,2n -k1,1n data.txt | tail -n 2

echo "== gzip round trip"
gzip -c -n data.txt > data.txt.gz
echo "gz md5: $(md5sum < data.txt.gz)"
gunzip -c data.txt.gz > back.txt
before=$(md5sum < data.txt)
after=$(md5sum < back.txt)
[ "$before" = "$after" ] && echo "round trip ok"
gzip -9 -c -n data.txt | gunzip | md5sum
cat data.txt back.txt | wc -l

echo "== sed / tr / grep"
sed -e 's/w\([0-9]*\)/word<\1>/' -e '/^1[0-9] /!d' data.txt
sed -n '100,103p' data.txt | tr 'a-z0-9' 'A-Z#'
grep -c ' w7$' data.txt
grep -E '^(5|50|500) ' data.txt
printf 'Hello, World\n' | tr '[:lower:]' '[:upper:]' | sed 's/WORLD/busybox/'

echo "== while read"
total=0
head -n 50 data.txt | while read -r n v w; do
    total=$((total + v))
    [ "$n" -eq 50 ] && echo "sum of 50: $total"
done
awk '{ s += $2 } END { print "awk sum:", s }' data.txt

echo "== exit status"
if grep -q nomatch data.txt; then echo "unexpected"; else echo "grep status $?"; fi
false || echo "false status $?"
(exit 3) || echo "subshell status $?"
