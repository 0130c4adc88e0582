// Gives every module library at least one source while its directory is empty.
