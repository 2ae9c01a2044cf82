// Command leanrules prints what the validator of the build it is compiled into holds, for the guard tests of the
// lean build (internal/validate/lean_guard_test.go, which runs it with -tags appnet_lean): every load-time rule as
// "rule<TAB>message<TAB>function", then, for each message full name read from standard input (one a line),
// "resolves<TAB>name" if the build's type registry resolves it.
package main

import (
	"bufio"
	"fmt"
	"os"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/appnet/appnet-agent/internal/validate" // its registry: every extension, or the lean build's
	"github.com/appnet/appnet-agent/internal/validate/loadtime"
)

func main() {
	out := bufio.NewWriter(os.Stdout)
	for _, r := range loadtime.RuleTable() {
		fmt.Fprintf(out, "rule\t%s\n", r)
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		name := protoreflect.FullName(in.Text())
		if _, err := protoregistry.GlobalTypes.FindMessageByName(name); err == nil {
			fmt.Fprintf(out, "resolves\t%s\n", name)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "leanrules:", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		os.Exit(1)
	}
}
