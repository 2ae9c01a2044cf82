package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/appnet/appnet-agent/internal/redact"
)

// usage is a command's help: `appnet-agent CMD -h` prints it with the flags on stdout (exit
// 0); a usage error prints the error and then the same text on stderr (exit 2).
type usage struct {
	name     string // the subcommand; "" for run
	synopsis string // what follows "appnet-agent NAME"; lines after the first are indented
	summary  string // one line, for the overview of `help`
	details  string // what --help adds: behaviour, exit codes
	examples []string
}

// overview is the command's entry in `appnet-agent help`.
func (u *usage) overview() string {
	return "  " + u.command() + " " + u.synopsis + "\n      " + u.summary + "\n"
}

func (u *usage) command() string {
	if u.name == "" {
		return "appnet-agent"
	}
	return "appnet-agent " + u.name
}

// write prints the full help: synopsis, summary and details, flags, examples.
func (u *usage) write(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s %s\n\n%s\n", u.command(), u.synopsis, u.summary)
	if u.details != "" {
		b.WriteString("\n" + u.details + "\n")
	}
	if hasFlags(fs) {
		b.WriteString("\nFlags (-x and --x alike):\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if len(u.examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, e := range u.examples {
			b.WriteString("  " + e + "\n")
		}
	}
	_, _ = io.WriteString(w, b.String())
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// cmdline is a command's flags and usage, and where its help and errors go.
type cmdline struct {
	fs             *flag.FlagSet
	u              *usage
	stdout, stderr io.Writer
}

func newCmdline(u *usage, stdout, stderr io.Writer) *cmdline {
	fs := flag.NewFlagSet(u.command(), flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors itself, once, with the usage
	fs.Usage = func() {}
	return &cmdline{fs: fs, u: u, stdout: stdout, stderr: stderr}
}

// parse parses the flags, which may stand anywhere among the operands (as GNU tools allow):
// an argument that starts with "-" is a flag, except "-" itself and whatever follows "--".
// It returns the operands and ok; when ok is false the command returns code: 0 after -h or
// --help printed the usage to stdout, 2 after a bad flag printed the error and the usage to
// stderr.
func (c *cmdline) parse(args []string) (operands []string, code int, ok bool) {
	var flags []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			// A flag's value may be the next argument (-o FILE), even one that starts with "-".
			if name := strings.TrimLeft(a, "-"); !strings.Contains(name, "=") && takesValue(c.fs.Lookup(name)) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			operands = append(operands, a)
		}
	}
	switch err := c.fs.Parse(flags); {
	case err == nil:
		return operands, 0, true
	case errors.Is(err, flag.ErrHelp):
		c.u.write(c.stdout, c.fs)
		return nil, 0, false
	default:
		return nil, c.usageError("%v", err), false
	}
}

// takesValue reports whether f is a flag with a value (not a boolean switch).
func takesValue(f *flag.Flag) bool {
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// usageError prints "error: ..." and the usage on stderr and returns the usage exit code, 2.
func (c *cmdline) usageError(format string, a ...any) int {
	fmt.Fprint(c.stderr, "error: "+redact.Text(fmt.Sprintf(format, a...))+"\n")
	c.u.write(c.stderr, c.fs)
	return 2
}

// parseFlagsOnly is parse for a command that takes no operands: one is a usage error, and
// hint (if any) is appended to it.
func (c *cmdline) parseFlagsOnly(args []string, hint string) (code int, ok bool) {
	operands, code, ok := c.parse(args)
	if !ok || len(operands) == 0 {
		return code, ok
	}
	return c.usageError("unexpected argument %q: %s takes no arguments%s", operands[0], c.u.command(), hint), false
}
