import { ERROR, NOW, UNDEFINED, list, real, table } from "./values.js";

table("split (§4.7)", [
  ["split", ["a b c"], list("a", "b", "c")],
  ["split", ["a,,b", ","], list("a", "", "b")],
  ["split", ["foo, bar"], list("foo", "bar")],
  ["split", ["foo ,bar"], list("foo", "bar")],
  ["split", [" a  b "], list("a", "b")],
  ["split", [""], list()],
  ["split", ["a,b,,c"], list("a", "b", "", "c")],
  ["split", [",,a"], list("", "a")],
  ["split", ["a\tb"], list("a", "b")],
  ["split", ["a;b", ";"], list("a", "b")],
  ["split", ["a b", ""], list("a b")],
  ["split", [UNDEFINED], ERROR],
  ["split", [1], ERROR],
  ["split", ["a", 1], ERROR],
  ["split", [], ERROR],
]);

table("splitUserName, splitSlotName (§4.8)", [
  ["splitUserName", ["user@domain"], list("user", "domain")],
  ["splitUserName", ["user"], list("user", "")],
  ["splitUserName", ["a@b@c"], list("a", "b@c")],
  ["splitSlotName", ["slot1@host"], list("slot1", "host")],
  ["splitSlotName", ["host"], list("", "host")],
  ["splitSlotName", ["slot1_2@host.example.org"], list("slot1_2", "host.example.org")],
  ["splitUserName", [UNDEFINED], ERROR],
  ["splitUserName", [1], ERROR],
  ["splitUserName", ["a", "b"], ERROR],
]);

table("time, interval (§4.4)", [
  ["time", [], NOW],
  ["time", [1], ERROR],
  ["interval", [60], "1:00"],
  ["interval", [3600], "1:00:00"],
  ["interval", [86400], "1+00:00:00"],
  ["interval", [1], "1"],
  ["interval", [0], "0"],
  ["interval", [121], "2:01"],
  ["interval", [10921], "3:02:01"],
  ["interval", [356521], "4+03:02:01"],
  ["interval", [3600 * 24 * 4 + 3600 * 3 + 60 * 2 + 1], "4+03:02:01"],
  ["interval", [1472523], "17+01:02:03"],
  ["interval", [-90], "-1:30"],
  ["interval", [real(61.9)], "1:01"],
  ["interval", ["61"], "1:01"],
  ["interval", [UNDEFINED], ERROR],
  ["interval", ["soon"], ERROR],
  ["interval", [], ERROR],
]);

/** Seconds of a local wall-clock time, so these expectations hold in any time zone. */
const local = (...parts: [number, number, number, number, number, number]) =>
  new Date(...parts).getTime() / 1000;
const monday = local(2007, 0, 1, 12, 0, 5);
const halfPastMidnight = local(2021, 11, 31, 0, 30, 0);
const pad2 = (n: number) => String(n).padStart(2, "0");
const d = new Date(1174737600 * 1000);

table("formatTime (§4.4)", [
  ["formatTime", [1174737600, "%m/%d/%y"], `${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}/07`],
  ["formatTime", [1174694400, 1174694400], ERROR],
  ["formatTime", [UNDEFINED], ERROR],
  ["formatTime", ["1174694400"], ERROR],
  ["formatTime", [NOW, "%s"], String(NOW)],
  ["formatTime", [real(NOW + 0.9), "%s"], String(NOW)],
  ["formatTime", [monday], "Mon Jan  1 12:00:05 2007"],
  ["formatTime", [monday, "%a %A %b %B %h"], "Mon Monday Jan January Jan"],
  ["formatTime", [monday, "%d %e %j %m %y %Y %C"], "01  1 001 01 07 2007 20"],
  ["formatTime", [monday, "%H %I %k %l %M %S %p"], "12 12 12 12 00 05 PM"],
  ["formatTime", [monday, "%u %w %U %W"], "1 1 00 01"],
  [
    "formatTime",
    [monday, "%D|%F|%T|%R|%r|%x|%X"],
    "01/01/07|2007-01-01|12:00:05|12:00|12:00:05 PM|01/01/07|12:00:05",
  ],
  ["formatTime", [halfPastMidnight, "%I:%M %p %j %U %W %u"], "12:30 AM 365 52 52 5"],
  ["formatTime", [monday, "100%% %q %"], "100% %q %"],
  ["formatTime", [monday, "a%nb%tc"], "a\nb\tc"],
  ["formatTime", [monday, "x", "y"], ERROR],
]);

table("debug", [
  ["debug", [3], 3],
  ["debug", [UNDEFINED], UNDEFINED],
  ["debug", [], ERROR],
]);
