package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// logLine is one log call, as spdlog's pattern formatter sees it.
type logLine struct {
	time   time.Time
	level  string
	logger string
	pid    int
	msg    string
}

// standinSource is the source location the stand-in reports for %g, %s, %# and %@.
const (
	standinSource = "source/server/envoy_standin.cc"
	standinLine   = 1
)

// timeFlags are spdlog's date and time flags, as Go layouts.
var timeFlags = map[byte]string{'Y': "2006", 'm': "01", 'd': "02", 'H': "15", 'M': "04", 'S': "05",
	'T': "15:04:05", 'z': "-07:00"}

// formatPattern renders an Envoy --log-format pattern (spdlog flags plus Envoy's %j and %_)
// in UTC: %Y %m %d %H %M %S %T %e %f %z %l %L %n %t %P %v %j %_ %g %s %# %@ %%. Any other
// flag is written as is, as spdlog does.
func formatPattern(pattern string, l logLine) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' || i+1 == len(pattern) {
			b.WriteByte(c)
			continue
		}
		i++
		f := pattern[i]
		if layout, ok := timeFlags[f]; ok {
			b.WriteString(l.time.Format(layout))
			continue
		}
		switch f {
		case 'e':
			fmt.Fprintf(&b, "%03d", l.time.Nanosecond()/1e6)
		case 'f':
			fmt.Fprintf(&b, "%06d", l.time.Nanosecond()/1e3)
		case 'l':
			b.WriteString(l.level)
		case 'L':
			b.WriteString(strings.ToUpper(l.level[:1]))
		case 'n':
			b.WriteString(l.logger)
		case 't', 'P':
			b.WriteString(strconv.Itoa(l.pid))
		case 'v':
			b.WriteString(l.msg)
		case 'j':
			b.WriteString(jsonEscape(l.msg))
		case '_':
			b.WriteString(strings.ReplaceAll(l.msg, "\n", "\\n"))
		case 'g':
			b.WriteString(standinSource)
		case 's':
			b.WriteString(standinSource[strings.LastIndexByte(standinSource, '/')+1:])
		case '#':
			b.WriteString(strconv.Itoa(standinLine))
		case '@':
			fmt.Fprintf(&b, "%s:%d", standinSource, standinLine)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f)
		}
	}
	return b.String()
}

// jsonEscape is Envoy's %j: the message as the inside of a JSON string.
func jsonEscape(s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return string(out[1 : len(out)-1])
}

// cEscape is absl::CEscape, which Envoy's --log-format-escaped applies to every formatted
// line: \n \r \t \" \' \\ as such, other bytes outside printable ASCII as three octal digits.
func cEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '"':
			b.WriteString(`\"`)
		case '\'':
			b.WriteString(`\'`)
		case '\\':
			b.WriteString(`\\`)
		default:
			if c < 0x20 || c >= 0x7f {
				fmt.Fprintf(&b, "\\%03o", c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}
