//go:build !appnet_lean

package loadtime

import "google.golang.org/protobuf/reflect/protoreflect"

// Used by the rules on shared instances (the dynamic forward proxy's DNS caches, dns_ext.go; the file system
// caches, cache.go), which are extension rules: the lean build (appnet_lean) leaves them out, and this file with
// them.

// equivalent compares two messages of one type as protobuf's MessageDifferencer::Equivalent does: an unset field
// and a field set to its default are the same.
func equivalent(a, b protoreflect.Message) bool {
	fields := a.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !a.Has(fd) && !b.Has(fd) {
			continue
		}
		if !equivalentValue(fd, a.Get(fd), b.Get(fd)) {
			return false
		}
	}
	return true
}

func equivalentValue(fd protoreflect.FieldDescriptor, x, y protoreflect.Value) bool {
	switch {
	case fd.IsList():
		lx, ly := x.List(), y.List()
		if lx.Len() != ly.Len() {
			return false
		}
		for i := 0; i < lx.Len(); i++ {
			if !equivalentElem(fd, lx.Get(i), ly.Get(i)) {
				return false
			}
		}
		return true
	case fd.IsMap():
		mx, my := x.Map(), y.Map()
		if mx.Len() != my.Len() {
			return false
		}
		same := true
		mx.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			w := my.Get(k)
			same = my.Has(k) && equivalentElem(fd.MapValue(), v, w)
			return same
		})
		return same
	}
	return equivalentElem(fd, x, y)
}

func equivalentElem(fd protoreflect.FieldDescriptor, x, y protoreflect.Value) bool {
	if fd.Message() != nil {
		return equivalent(x.Message(), y.Message())
	}
	return x.Equal(y)
}
