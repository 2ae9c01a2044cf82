package env

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad: any values for any variables load without a panic; every error is a *VarError
// naming a known variable (or the agent's flag), and an accepted config keeps its invariants.
func FuzzLoad(f *testing.F) {
	vars := Vars()
	for _, seed := range []struct {
		a, b   uint16
		va, vb string
	}{
		{0, 1, "true", "x"}, {5, 9, "99999999999999999999", "-1"}, {30, 40, `{"a":{"b":1,"b":2}}`, "1e999"},
		{12, 60, " unix:///x ", "[::1]:0"}, {70, 80, "\xff", "0.5"}, {3, 3, "", "tcp:1.2.3.4:5 udp:"},
	} {
		f.Add(seed.a, seed.b, seed.va, seed.vb)
	}
	known := knownNames()
	f.Fuzz(func(t *testing.T, a, b uint16, va, vb string) {
		m := map[string]string{"APPMESH_RESOURCE_ARN": "mesh/m/virtualNode/n"}
		m[vars[int(a)%len(vars)].Name] = va
		m[vars[int(b)%len(vars)].Name] = vb
		names := []string{vars[int(a)%len(vars)].Name, vars[int(b)%len(vars)].Name, "APPNET_" + strings.ToUpper(va)}
		c, warns, err := Load(MapSource(m), Options{FileHasContent: func(string) bool { return false }, Names: names})
		for _, w := range warns {
			if w == "" {
				t.Fatal("an empty warning")
			}
		}
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T %v is not an Errors list", err, err)
			}
			for _, e := range errs {
				var ve *VarError
				if !errors.As(e, &ve) {
					t.Fatalf("%v is not a *VarError", e)
				}
				for _, n := range strings.Split(ve.Name, ", ") {
					if !known[n] {
						t.Fatalf("error names %q, not a variable", ve.Name)
					}
				}
			}
			return
		}
		if c.Agent.RestartCount < 0 || c.Agent.RestartCount > 10 || c.Agent.MinDrain > c.Agent.DrainWait ||
			c.Admin.Concurrency > 1024 || len(c.API.AdminUDSPath) > maxSocketPath {
			t.Fatalf("an accepted config breaks its bounds: %+v %+v %+v", c.Agent, c.Admin, c.API)
		}
	})
}
