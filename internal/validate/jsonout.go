package validate

import (
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// raw emits n with no descriptor: inside Struct/Value and other well-known types, or a value of the wrong shape
// that protojson will reject (with a path, thanks to the line map).
func (c *converter) raw(n *yaml.Node, p int32) {
	n, ok := c.enterValue(n, p)
	if !ok {
		return
	}
	defer c.leave()
	switch n.Kind {
	case yaml.MappingNode:
		c.object(n, p, c.raw, nil)
	case yaml.SequenceNode:
		c.array(n, p, c.raw)
	case yaml.ScalarNode:
		c.scalar(c.classify(n))
	default:
		c.out = append(c.out, "null"...)
	}
}

// object emits mapping node n (path p) as a JSON object, writing each value with value; keys are checked and
// ordered by collect, written as key makes them (as they are when key is nil), and each key's path is recorded for
// error positions.
func (c *converter) object(n *yaml.Node, p int32, value func(v *yaml.Node, kp int32), key func(k *yaml.Node, kp int32) string) {
	start := c.collect(n, p, segKey)
	c.out = append(c.out, '{')
	for i := start; i < len(c.pairs); i++ {
		k, v := c.pairs[i].k, c.pairs[i].v
		if i > start {
			c.out = append(c.out, ',')
		}
		kp := c.child(p, segKey, k.Value, 0)
		c.newline(kp, k.Line)
		if key == nil {
			c.out = appendString(c.out, k.Value)
		} else {
			c.out = appendString(c.out, key(k, kp))
		}
		c.out = append(c.out, ':')
		value(v, kp)
	}
	c.out = append(c.out, '}')
	c.pairs = c.pairs[:start]
}

func (c *converter) scalar(kind scalarKind, text string) {
	switch kind {
	case kindNull:
		c.out = append(c.out, "null"...)
	case kindBool, kindInt, kindNumber:
		c.out = append(c.out, text...)
	default: // kindString, kindBigInt
		c.out = appendString(c.out, text)
	}
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as protojson would refuse it anyway.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
			i++
			continue
		case '\n':
			b = append(b, '\\', 'n')
			i++
			continue
		case '\t':
			b = append(b, '\\', 't')
			i++
			continue
		}
		if c < 0x20 {
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
