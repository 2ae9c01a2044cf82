package loadtime

import (
	"strings"
	"testing"
)

func TestLuaTooDeep(t *testing.T) {
	nest := func(open, inner, closing string, n int) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(closing, n)
	}
	const limit = luaMaxLevels - 2
	for _, tc := range []struct {
		name, code string
		line       int // 0: not too deep
	}{
		{"parentheses at the limit", "return " + nest("(", "1", ")", limit), 0},
		{"parentheses past the limit", "return " + nest("(", "1", ")", limit+1), 1},
		{"400k parentheses", "return " + nest("(", "1", ")", 400000), 1},
		{"tables", "x = " + nest("{", "1", "}", limit+1), 1},
		{"index brackets", "x = a" + nest("[ ", "1", " ]", limit+1), 1},
		{"blocks", nest("do ", "", " end ", limit+1), 1},
		{"functions", nest("function f() ", "", " end ", limit+1), 1},
		{"repeat", nest("repeat ", "", " until x ", limit+1), 1},
		{"if, elseif and else balance", nest("if a then x = 1 elseif b then ", "", " else y = 2 end ", limit), 0},
		{"while and for", nest("while a do for i = 1, 2 do ", "", " end end ", limit/2), 0},
		{"the line of the excess", "local x = 1\n-- a comment\nreturn " + nest("(\n", "1", ")", limit+1), 3 + limit},
		{"brackets in strings", `x = "` + strings.Repeat("(", 1000) + `" .. '` + strings.Repeat("{", 1000) + `\'' .. "\"("`, 0},
		{"brackets in long strings", "x = [[" + strings.Repeat("(", 1000) + "]] .. [==[ ]] " + strings.Repeat("[", 1000) + "]==]", 0},
		{"brackets in comments", "-- " + strings.Repeat("(", 1000) + "\n--[[ " + strings.Repeat("{", 1000) + " ]]\nx = 1", 0},
		{"keywords inside names", "endx = 1 doit = 2 functional = 3 thenceforth = 4", 0},
		{"numbers", "x = 1.5e10 + 0x1F + 3", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := luaTooDeep(tc.code, limit); got != tc.line {
				t.Fatalf("line %d, want %d", got, tc.line)
			}
		})
	}
}
