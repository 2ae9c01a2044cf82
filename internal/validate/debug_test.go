package validate

import (
	"fmt"
	"os"
	"testing"
)

func TestDebug(t *testing.T) {
	for _, f := range []string{"testdata/sidecar.yaml", os.Getenv("F")} {
		if f == "" {
			continue
		}
		data, _ := os.ReadFile(f)
		b, err := Decode(data)
		fmt.Println(f, "decode:", err)
		if b != nil {
			fmt.Println("check:", Check(b))
			for _, d := range Deprecations(b) {
				fmt.Println("deprecation:", d)
			}
		}
	}
}
