package validate

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

const deprecationTableFile = "deprecations_gen.go"

// TestDeprecationTable keeps apiDeprecations and apiDeprecationFiles exactly what the options of the linked API
// files declare (declaredDeprecation trusts them for those files): every file of the registry, every field and
// enum value of it, read from its options. After a go-control-plane update it fails until the table is made
// again with `go test ./internal/validate/ -run TestDeprecationTable -update`.
func TestDeprecationTable(t *testing.T) {
	files, table := deprecationsFromOptions()
	src := deprecationTableSource(files, table)
	if *update {
		if err := os.WriteFile(deprecationTableFile, src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(deprecationTableFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, src) {
		t.Fatalf("%s is not what the linked API files declare (%d files, %d deprecations now; the table has %d and %d): "+
			"run go test ./internal/validate/ -run TestDeprecationTable -update", deprecationTableFile,
			len(files), len(table), len(apiDeprecationFiles), len(apiDeprecations))
	}
	if !slices.Equal(files, apiDeprecationFiles) || !slices.Equal(table, apiDeprecations) {
		t.Fatal("the compiled table differs from the file's text: rebuild")
	}
	if len(table) < 100 {
		t.Fatalf("only %d deprecations in the Envoy API: the walk missed most of it", len(table))
	}
}

// TestDeclaredDeprecationMatchesOptions asks declaredDeprecation, through the table, about every field and enum
// value of the registry and compares with the options; and once about a descriptor outside the table's files.
func TestDeclaredDeprecationMatchesOptions(t *testing.T) {
	n := 0
	eachDeclaration(func(d protoreflect.Descriptor, enumValue bool) {
		n++
		want, wantOK := optionsDeprecation(d, enumValue)
		got, gotOK := declaredDeprecation(d, enumValue)
		if got != want || gotOK != wantOK {
			t.Errorf("%s: table says %+v %v, options %+v %v", d.FullName(), got, gotOK, want, wantOK)
		}
	})
	if n < 5000 {
		t.Errorf("only %d fields and enum values seen", n)
	}
	// A file the table was not made from (here built at run time) is read from its options.
	str, opt := descriptorpb.FieldDescriptorProto_TYPE_STRING, descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("appnet/test/deprecated.proto"), Package: proto.String("appnet.test"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("M"), Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("old"), JsonName: proto.String("old"), Number: proto.Int32(1), Type: &str, Label: &opt,
				Options: &descriptorpb.FieldOptions{Deprecated: proto.Bool(true)}},
			{Name: proto.String("new"), JsonName: proto.String("new"), Number: proto.Int32(2), Type: &str, Label: &opt},
		}}},
	}
	f, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	if _, tabled := slices.BinarySearch(apiDeprecationFiles, f.Path()); tabled {
		t.Fatal("a file that is not linked is in the table")
	}
	fs := f.Messages().Get(0).Fields()
	if d, ok := declaredDeprecation(fs.Get(0), false); !ok || d.name != "appnet.test.M.old" {
		t.Errorf("field old: %+v %v, want deprecated", d, ok)
	}
	if d, ok := declaredDeprecation(fs.Get(1), false); ok {
		t.Errorf("field new: %+v, want not deprecated", d)
	}
}

// eachDeclaration calls fn for every field (extensions included) and enum value of every registered file.
func eachDeclaration(fn func(d protoreflect.Descriptor, enumValue bool)) {
	enums := func(es protoreflect.EnumDescriptors) {
		for i := range es.Len() {
			vs := es.Get(i).Values()
			for j := range vs.Len() {
				fn(vs.Get(j), true)
			}
		}
	}
	fields := func(fs protoreflect.ExtensionDescriptors) {
		for i := range fs.Len() {
			fn(fs.Get(i), false)
		}
	}
	var messages func(protoreflect.MessageDescriptors)
	messages = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			m := ms.Get(i)
			for j := range m.Fields().Len() {
				fn(m.Fields().Get(j), false)
			}
			fields(m.Extensions())
			enums(m.Enums())
			messages(m.Messages())
		}
	}
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		messages(f.Messages())
		enums(f.Enums())
		fields(f.Extensions())
		return true
	})
}

// deprecationsFromOptions reads, from the options, what the table must hold: every registered file's path, and
// every deprecated field and enum value, both sorted.
func deprecationsFromOptions() (files []string, table []deprecation) {
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		files = append(files, f.Path())
		return true
	})
	eachDeclaration(func(d protoreflect.Descriptor, enumValue bool) {
		if dep, ok := optionsDeprecation(d, enumValue); ok {
			table = append(table, dep)
		}
	})
	slices.Sort(files)
	slices.SortFunc(table, func(a, b deprecation) int { return strings.Compare(a.name, b.name) })
	return files, table
}

func deprecationTableSource(files []string, table []deprecation) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by go test ./internal/validate/ -run TestDeprecationTable -update; DO NOT EDIT.\n\n")
	b.WriteString("package validate\n\n")
	b.WriteString("// apiDeprecations are the fields and enum values that the API files of apiDeprecationFiles declare deprecated,\n")
	b.WriteString("// sorted by full name (declaredDeprecation).\n")
	b.WriteString("var apiDeprecations = []deprecation{\n")
	for _, d := range table {
		fmt.Fprintf(&b, "\t{name: %q, enumValue: %v, since: %q, disallowed: %v},\n", d.name, d.enumValue, d.since, d.disallowed)
	}
	b.WriteString("}\n\n")
	b.WriteString("// apiDeprecationFiles are the API files apiDeprecations was read from, sorted.\n")
	b.WriteString("var apiDeprecationFiles = []string{\n")
	for _, f := range files {
		fmt.Fprintf(&b, "\t%q,\n", f)
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		panic(err)
	}
	return src
}
