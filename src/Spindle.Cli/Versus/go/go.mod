module spindle/versus

go 1.19
