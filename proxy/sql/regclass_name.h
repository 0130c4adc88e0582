// How PostgreSQL reads a relation name given as text ('public.orders_id_seq'
// for nextval, '"Users"'::regclass): regclassin's rules, so that the relation
// the analyzer names is the one the server opens.
#pragma once

#include <string>
#include <string_view>

namespace pgmoat::sql::detail {

struct RegclassName {
    std::string catalog, schema, name;  // folded as PostgreSQL folds them
};

// False when the text is not a name: an OID (all digits, which regclassin
// takes as a number), "-", empty, more than three parts, or badly quoted.
bool parse_regclass_name(std::string_view text, RegclassName& out);

}  // namespace pgmoat::sql::detail
