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
