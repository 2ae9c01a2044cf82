package validate

import (
	"os"
	"testing"
)

// BenchmarkValidate measures Decode+Check of the 230-line sidecar bootstrap in testdata, the work start-up does.
func BenchmarkValidate(b *testing.B) {
	data, err := os.ReadFile("testdata/sidecar.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Bootstrap(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStages splits the cost, to see where time goes.
func BenchmarkStages(b *testing.B) {
	data, err := os.ReadFile("testdata/sidecar.yaml")
	if err != nil {
		b.Fatal(err)
	}
	bs, err := Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = Decode(data)
		}
	})
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Check(bs)
		}
	})
	b.Run("Lint", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = lint(data)
		}
	})
	b.Run("CanonicalYAML", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = CanonicalYAML(bs)
		}
	})
}
