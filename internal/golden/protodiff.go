package golden

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// differingPaths walks two messages together and returns the field paths of the leaves where
// they differ, in the order and the notation the report uses: fields by name in sorted order,
// list elements as [i] (the index in got, or in want for one got lacks), proto map and Struct
// keys as .key or ["key"], an Any's payload under the Any's own path (.@type when the types
// differ), and Struct, Value and ListValue adding no step of their own.
//
// go-cmp with protocmp made these paths before issue 19; it cost every agent process 0.5 ms of
// package initialisation for a subcommand few users run, so this walk of protoreflect replaces
// it, and a test holds the two to the same paths (go-cmp is a test-only dependency).
func differingPaths(want, got proto.Message) []string {
	d := &differ{}
	d.message(want.ProtoReflect(), got.ProtoReflect(), "")
	return d.paths
}

type differ struct{ paths []string }

func (d *differ) report(path string) {
	if path == "" {
		path = "(the whole bootstrap)"
	}
	d.paths = append(d.paths, path)
}

func (d *differ) message(x, y protoreflect.Message, path string) {
	if x.Descriptor().FullName() == "google.protobuf.Any" {
		d.any(x, y, path)
		return
	}
	wrapper := structWrappers[x.Descriptor().FullName()]
	fields := x.Descriptor().Fields()
	var names []protoreflect.FieldDescriptor
	for i := range fields.Len() {
		if fd := fields.Get(i); x.Has(fd) || y.Has(fd) {
			names = append(names, fd)
		}
	}
	slices.SortFunc(names, func(a, b protoreflect.FieldDescriptor) int { return cmp.Compare(a.Name(), b.Name()) })
	for _, fd := range names {
		p := path
		if !wrapper {
			p = join(path, string(fd.Name()))
		}
		switch {
		case !x.Has(fd) || !y.Has(fd):
			d.report(p)
		case fd.IsList():
			d.list(fd, x.Get(fd).List(), y.Get(fd).List(), p)
		case fd.IsMap():
			d.protoMap(fd, x.Get(fd).Map(), y.Get(fd).Map(), p)
		default:
			d.value(fd, x.Get(fd), y.Get(fd), p)
		}
	}
	if !slices.Equal(x.GetUnknown(), y.GetUnknown()) {
		d.report(join(path, "@unknown"))
	}
}

// any compares two Any messages by their payloads, unpacked when both types resolve.
func (d *differ) any(x, y protoreflect.Message, path string) {
	ax, okx := x.Interface().(*anypb.Any)
	ay, oky := y.Interface().(*anypb.Any)
	if !okx || !oky {
		if !proto.Equal(x.Interface(), y.Interface()) {
			d.report(path)
		}
		return
	}
	mx, errx := ax.UnmarshalNew()
	my, erry := ay.UnmarshalNew()
	switch {
	case ax.GetTypeUrl() != ay.GetTypeUrl():
		d.report(path + ".@type")
		if errx == nil && erry == nil {
			d.byName(mx.ProtoReflect(), my.ProtoReflect(), path)
		}
	case errx != nil || erry != nil:
		if !proto.Equal(ax, ay) {
			d.report(join(path, "value"))
		}
	default:
		d.message(mx.ProtoReflect(), my.ProtoReflect(), path)
	}
}

// byName compares two messages of different types field by field name: each name set in
// either that does not hold an equal value in both is a differing path.
func (d *differ) byName(x, y protoreflect.Message, path string) {
	set := func(m protoreflect.Message) map[protoreflect.Name]protoreflect.Value {
		out := map[protoreflect.Name]protoreflect.Value{}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			out[fd.Name()] = v
			return true
		})
		return out
	}
	vx, vy := set(x), set(y)
	var names []string
	for n := range vx {
		names = append(names, string(n))
	}
	for n := range vy {
		if _, ok := vx[n]; !ok {
			names = append(names, string(n))
		}
	}
	slices.Sort(names)
	for _, n := range names {
		a, okA := vx[protoreflect.Name(n)]
		b, okB := vy[protoreflect.Name(n)]
		if !okA || !okB || !sameValue(a, b) {
			d.report(join(path, n))
		}
	}
}

// sameValue compares two field values of fields that may belong to different message types.
func sameValue(a, b protoreflect.Value) bool {
	ma, okA := a.Interface().(protoreflect.Message)
	mb, okB := b.Interface().(protoreflect.Message)
	if okA || okB {
		return okA && okB && proto.Equal(ma.Interface(), mb.Interface())
	}
	_, listA := a.Interface().(protoreflect.List)
	_, listB := b.Interface().(protoreflect.List)
	_, mapA := a.Interface().(protoreflect.Map)
	_, mapB := b.Interface().(protoreflect.Map)
	if listA || listB || mapA || mapB {
		return false
	}
	return a.Equal(b)
}

func (d *differ) value(fd protoreflect.FieldDescriptor, x, y protoreflect.Value, path string) {
	if fd.Message() != nil {
		d.message(x.Message(), y.Message(), path)
		return
	}
	if !x.Equal(y) {
		d.report(path)
	}
}

// list aligns the two lists on their longest common run of equal elements, as go-cmp does, so
// an inserted element is one path, not every element after it; unequal elements in the same
// gap are compared field by field, pair by pair.
func (d *differ) list(fd protoreflect.FieldDescriptor, x, y protoreflect.List, path string) {
	eq := func(i, j int) bool { return valuesEqual(fd, x.Get(i), y.Get(j)) }
	n, m := x.Len(), y.Len()
	// lcs[i][j]: the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if eq(i, j) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var gapX, gapY []int
	flush := func() {
		k := 0
		for ; k < len(gapX) && k < len(gapY); k++ {
			d.value(fd, x.Get(gapX[k]), y.Get(gapY[k]), fmt.Sprintf("%s[%d]", path, gapY[k]))
		}
		for _, i := range gapX[k:] {
			d.report(fmt.Sprintf("%s[%d]", path, i))
		}
		for _, j := range gapY[k:] {
			d.report(fmt.Sprintf("%s[%d]", path, j))
		}
		gapX, gapY = gapX[:0], gapY[:0]
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && eq(i, j):
			flush()
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			gapY = append(gapY, j)
			j++
		default:
			gapX = append(gapX, i)
			i++
		}
	}
	flush()
}

func (d *differ) protoMap(fd protoreflect.FieldDescriptor, x, y protoreflect.Map, path string) {
	keys := map[string]protoreflect.MapKey{}
	collect := func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys[fmt.Sprint(k.Interface())] = k
		return true
	}
	x.Range(collect)
	y.Range(collect)
	for _, name := range slices.Sorted(maps.Keys(keys)) {
		k := keys[name]
		var b strings.Builder
		b.WriteString(path)
		writeMapKey(&b, name)
		p := b.String()
		if !x.Has(k) || !y.Has(k) {
			d.report(p)
			continue
		}
		d.value(fd.MapValue(), x.Get(k), y.Get(k), p)
	}
}

// valuesEqual compares two elements of a list, payloads of Any included.
func valuesEqual(fd protoreflect.FieldDescriptor, x, y protoreflect.Value) bool {
	if fd.Message() == nil {
		return x.Equal(y)
	}
	return proto.Equal(x.Message().Interface(), y.Message().Interface())
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
