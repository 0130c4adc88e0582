// The tree walk's statement half: what each statement node means (its kind,
// targets, scopes, CTEs, flags), with the DML statements field by field and the
// utility statements through one table-like handler.
#include "walker_impl.h"

#include "pgmoat/common/ascii.h"

#include <charconv>

namespace pgmoat::sql::detail {

namespace {

// The context every DML statement starts its fields from: its own scope, and
// where its select list or RETURNING sends values (c.output).
Ctx dml_base(int32_t scope, const Ctx& c) {
    Ctx b;
    b.scope = scope;
    b.stmt = StmtRole::nested;
    b.access = access(Access::read);
    b.output = c.output;
    return b;
}

using ascii::lower;

bool truthy(Str v) {
    std::string l = lower(v);
    return !(l == "false" || l == "off" || l == "0" || l == "no" || l == "f" || l == "n");
}

bool changes_parsing(Str parameter) {
    return parameter == "standard_conforming_strings" || parameter == "client_encoding" || parameter == "all";
}

bool relation_like(Str object_type) {
    return object_type == "table" || object_type == "view" || object_type == "matview" || object_type == "index" ||
           object_type == "sequence" || object_type == "foreign_table";
}

Str default_object_type(StatementKind k) {
    switch (k) {
        case StatementKind::create_table:
        case StatementKind::create_table_as:
            return "table";
        case StatementKind::create_materialized_view:
        case StatementKind::refresh_materialized_view:
            return "matview";
        case StatementKind::create_view:
            return "view";
        case StatementKind::create_index:
            return "index";
        case StatementKind::create_sequence:
        case StatementKind::alter_sequence:
            return "sequence";
        case StatementKind::create_schema:
            return "schema";
        case StatementKind::create_function:
        case StatementKind::alter_function:
            return "function";
        case StatementKind::create_procedure:
            return "procedure";
        case StatementKind::create_trigger:
            return "trigger";
        case StatementKind::create_event_trigger:
        case StatementKind::alter_event_trigger:
            return "event_trigger";
        case StatementKind::create_rule:
            return "rule";
        case StatementKind::create_type:
        case StatementKind::alter_type:
            return "type";
        case StatementKind::create_domain:
        case StatementKind::alter_domain:
            return "domain";
        case StatementKind::create_aggregate:
            return "aggregate";
        case StatementKind::create_operator:
        case StatementKind::alter_operator:
            return "operator";
        case StatementKind::create_collation:
        case StatementKind::alter_collation:
            return "collation";
        case StatementKind::create_conversion:
            return "conversion";
        case StatementKind::create_cast:
            return "cast";
        case StatementKind::create_operator_class:
            return "opclass";
        case StatementKind::create_operator_family:
        case StatementKind::alter_operator_family:
            return "opfamily";
        case StatementKind::create_language:
            return "language";
        case StatementKind::create_foreign_data_wrapper:
        case StatementKind::alter_foreign_data_wrapper:
            return "fdw";
        case StatementKind::create_server:
        case StatementKind::alter_server:
            return "foreign_server";
        case StatementKind::create_user_mapping:
        case StatementKind::alter_user_mapping:
        case StatementKind::drop_user_mapping:
            return "user_mapping";
        case StatementKind::create_foreign_table:
            return "foreign_table";
        case StatementKind::import_foreign_schema:
            return "schema";
        case StatementKind::create_policy:
        case StatementKind::alter_policy:
            return "policy";
        case StatementKind::create_transform:
            return "transform";
        case StatementKind::create_access_method:
            return "access_method";
        case StatementKind::create_publication:
        case StatementKind::alter_publication:
            return "publication";
        case StatementKind::create_subscription:
        case StatementKind::alter_subscription:
        case StatementKind::drop_subscription:
            return "subscription";
        case StatementKind::create_statistics:
        case StatementKind::alter_statistics:
            return "statistic_ext";
        case StatementKind::create_extension:
        case StatementKind::alter_extension:
            return "extension";
        case StatementKind::create_database:
        case StatementKind::alter_database:
        case StatementKind::drop_database:
            return "database";
        case StatementKind::create_tablespace:
        case StatementKind::alter_tablespace:
        case StatementKind::drop_tablespace:
            return "tablespace";
        case StatementKind::create_role:
        case StatementKind::alter_role:
        case StatementKind::drop_role:
            return "role";
        default:
            return {};
    }
}

// Statement fields that name the thing the statement acts on (Statement::name).
struct NameField {
    NodeTag tag;
    Str field;
};
constexpr NameField kNameFields[] = {
    {NodeTag::PrepareStmt, "name"},
    {NodeTag::ExecuteStmt, "name"},
    {NodeTag::DeallocateStmt, "name"},
    {NodeTag::ListenStmt, "conditionname"},
    {NodeTag::UnlistenStmt, "conditionname"},
    {NodeTag::NotifyStmt, "conditionname"},
    {NodeTag::DeclareCursorStmt, "portalname"},
    {NodeTag::FetchStmt, "portalname"},
    {NodeTag::ClosePortalStmt, "portalname"},
    {NodeTag::TransactionStmt, "savepoint_name"},
    {NodeTag::TransactionStmt, "gid"},
    {NodeTag::CreateExtensionStmt, "extname"},
    {NodeTag::AlterExtensionStmt, "extname"},
    {NodeTag::AlterExtensionContentsStmt, "extname"},
    {NodeTag::LoadStmt, "filename"},
    {NodeTag::RuleStmt, "rulename"},
    {NodeTag::CreateTrigStmt, "trigname"},
    {NodeTag::CreateEventTrigStmt, "trigname"},
    {NodeTag::IndexStmt, "idxname"},
    {NodeTag::CreatedbStmt, "dbname"},
    {NodeTag::DropdbStmt, "dbname"},
    {NodeTag::AlterDatabaseStmt, "dbname"},
    {NodeTag::AlterDatabaseSetStmt, "dbname"},
    {NodeTag::CreateSchemaStmt, "schemaname"},
    {NodeTag::CreateRoleStmt, "role"},
    {NodeTag::CreatePolicyStmt, "policy_name"},
    {NodeTag::AlterPolicyStmt, "policy_name"},
    {NodeTag::CreateTableSpaceStmt, "tablespacename"},
    {NodeTag::DropTableSpaceStmt, "tablespacename"},
    {NodeTag::CreatePLangStmt, "plname"},
    {NodeTag::CreateFdwStmt, "fdwname"},
    {NodeTag::CreateForeignServerStmt, "servername"},
    {NodeTag::CreatePublicationStmt, "pubname"},
    {NodeTag::CreateSubscriptionStmt, "subname"},
    {NodeTag::DropSubscriptionStmt, "subname"},
    {NodeTag::CreateAmStmt, "amname"},
};

bool is_name_key(NodeTag tag, Str key) {
    for (const NameField& f : kNameFields)
        if (f.tag == tag && f.field == key) return true;
    return false;
}

StatementKind transaction_kind(Str k) {
    if (is(k, "TRANS_STMT_COMMIT")) return StatementKind::commit;
    if (is(k, "TRANS_STMT_ROLLBACK")) return StatementKind::rollback;
    if (is(k, "TRANS_STMT_SAVEPOINT")) return StatementKind::savepoint;
    if (is(k, "TRANS_STMT_RELEASE")) return StatementKind::release_savepoint;
    if (is(k, "TRANS_STMT_ROLLBACK_TO")) return StatementKind::rollback_to_savepoint;
    if (is(k, "TRANS_STMT_PREPARE")) return StatementKind::prepare_transaction;
    if (is(k, "TRANS_STMT_COMMIT_PREPARED")) return StatementKind::commit_prepared;
    if (is(k, "TRANS_STMT_ROLLBACK_PREPARED")) return StatementKind::rollback_prepared;
    return StatementKind::begin;  // TRANS_STMT_BEGIN, TRANS_STMT_START
}

StatementKind define_kind(Str object_type) {
    if (object_type == "aggregate") return StatementKind::create_aggregate;
    if (object_type == "operator") return StatementKind::create_operator;
    if (object_type == "collation") return StatementKind::create_collation;
    if (object_type.substr(0, 2) == "ts") return StatementKind::create_text_search;
    return StatementKind::create_type;
}

}  // namespace

int32_t Walker::new_scope(const Ctx& c) {
    ScopeInfo si;
    si.parent = c.scope;
    si.cte_index = c.cte_index;
    si.hides_parent_entries = c.hide_parent || c.cte_index >= 0;
    si.arm = c.arm;
    si.place = place_of(c);
    raw_.scopes.push_back(si);
    return static_cast<int32_t>(raw_.scopes.size() - 1);
}

// Where a write is reported: the first place named inside it (the statement's
// and WITH queries' own starts replace it once known).
void Walker::finish_write(int32_t write, const Acc& acc) {
    if (write >= 0) raw_.writes[static_cast<size_t>(write)].offset = acc.first;
}

WritePlace Walker::place_of(const Ctx& c) {
    if (c.stmt == StmtRole::top) return WritePlace::statement;
    if (c.stmt == StmtRole::inner) return WritePlace::inner;
    return c.cte_index >= 0 ? WritePlace::with : WritePlace::nested;
}

// A data-modifying statement of scope `scope`, writing RawRelation `target`.
int32_t Walker::add_write(const Ctx& c, StatementKind kind, int32_t scope, int32_t target, int32_t entry) {
    RawWrite w;
    w.kind = kind;
    w.place = place_of(c);
    w.scope = scope;
    w.target = target;
    w.entry = entry;
    raw_.writes.push_back(w);
    raw_.scopes[static_cast<size_t>(scope)].dml = true;
    return static_cast<int32_t>(raw_.writes.size() - 1);
}

void Walker::set_kind(const Ctx& c, StatementKind kind) {
    if (c.stmt == StmtRole::top) {
        st().kind = kind;
        if (st().object_type.empty()) st().object_type = default_object_type(kind);
    } else if (c.stmt == StmtRole::inner && st().inner_kind == StatementKind::none) {
        st().inner_kind = kind;
    }
}

int32_t Walker::target_relation(Acc& acc, Str key, const Ctx& base, AccessSet a, bool visible, int32_t* entry) {
    Ctx t = base;
    t.access = a;
    t.from_item = false;
    size_t before = raw_.relations.size();
    acc.add(key, value(t, key));
    if (raw_.relations.size() == before) return -1;
    int32_t index = static_cast<int32_t>(before);
    if (base.scope >= 0) {
        add_entry(base.scope, index, visible);
        if (entry) *entry = static_cast<int32_t>(raw_.entries.size() - 1);
    }
    return index;
}

// ---- SELECT --------------------------------------------------------------------

Sub Walker::select_stmt(const NodeInfo& info, const Ctx& c) {
    int32_t scope = new_scope(c);
    Ctx base = dml_base(scope, c);
    bool outer = c.stmt != StmtRole::nested;
    bool into = false;
    // UNION ALL chains: an arm equal to the one before it counts once (as a
    // VALUES row does), so a driver's `SELECT 1, 2 UNION ALL SELECT 3, 4 ...`
    // keeps one structure whatever the number of rows.
    bool union_op = false, all = false, larg_chain = false;
    uint64_t larg_hash = 0, larg_last = 0, rarg_hash = 0;
    Acc acc(info.hash);
    // Its clauses are walked by their roles (typed_fields.h); what is judged here:
    bool ok = fields(acc, base, [&](Str key) {
        if (is(key, "limitCount") || is(key, "limitOffset")) {
            size_t literals = raw_.literals.size();
            Sub s = field(base, key);
            acc.add(key, s);
            // LIMIT ALL and LIMIT NULL are no limit.
            bool none = s.hash == kPlaceholder && raw_.literals.size() == literals + 1 &&
                        raw_.literals.back().kind == LiteralKind::null;
            if (is(key, "limitCount") && !none) {
                if (outer) st().has_limit = true;
                raw_.scopes[static_cast<size_t>(scope)].has_limit = true;
            }
        } else if (is(key, "intoClause")) {
            acc.add(key, field(base, key));
            into = true;
            st().select_into = true;
        } else if (is(key, "op")) {
            Sub s;
            Str op = string_value(s);
            acc.add(key, s);
            SetOperations& ops = st().set_operations;
            if (is(op, "SETOP_UNION")) ++ops.union_;
            if (is(op, "SETOP_INTERSECT")) ++ops.intersect;
            if (is(op, "SETOP_EXCEPT")) ++ops.except;
            if (!is(op, "SETOP_NONE")) raw_.scopes[static_cast<size_t>(scope)].set_operation = true;
            union_op = is(op, "SETOP_UNION");
        } else if (is(key, "all") && r_.peek() != '{' && r_.peek() != '[') {
            Str v = r_.scalar();
            all = is(v, "true");
            acc.add(key, Sub{hash_bytes(v)});
        } else if (is(key, "larg") || is(key, "rarg")) {
            Sub s = field(base, key);
            acc.add(key, s);
            if (is(key, "larg")) {
                larg_hash = s.hash;
                larg_last = last_arm_;
                larg_chain = last_union_all_;
            } else {
                rarg_hash = s.hash;
            }
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    set_kind(c, into ? StatementKind::create_table_as : StatementKind::select);
    Sub out = acc.done();
    raw_.scopes[static_cast<size_t>(scope)].first_location = out.first;
    const bool union_all = union_op && all;
    if (union_all && larg_chain && rarg_hash == larg_last) out.hash = larg_hash;
    last_arm_ = union_all ? rarg_hash : out.hash;
    last_union_all_ = union_all;
    return out;
}

Sub Walker::with_clause(const NodeInfo&, const Ctx& c) {
    Acc acc(kStructSeed);
    bool ok = fields(acc, c, [&](Str key) {
        if (is(key, "ctes") && r_.peek() == '[') {
            Acc list(kArraySeed);
            r_.begin_array();
            int32_t index = 0;
            while (r_.next_element()) {
                Sub s = cte(c, index++);
                list.merge(s);
                list.h = combine(list.h, s.hash);
            }
            acc.add(key, list.done());
        } else if (is(key, "recursive")) {
            Str v = r_.scalar();
            if (is(v, "true") && c.scope >= 0) raw_.scopes[static_cast<size_t>(c.scope)].recursive = true;
            acc.add(key, Sub{hash_bytes(v)});
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    return acc.done();
}

// One CommonTableExpr of the WITH list of scope c.scope, at position index.
Sub Walker::cte(const Ctx& c, int32_t index) {
    DepthGuard guard(*this);
    if (!guard.ok) return {};
    if (!r_.peek_wrapped()) return value(c);
    Str tag;
    r_.begin_object();
    if (!r_.next_key(tag)) return {};
    const NodeInfo& info = node_info(tag);
    if (info.tag != NodeTag::CommonTableExpr) {
        if (info.tag == NodeTag::unknown) unknown_node(tag);
        r_.skip();
        Str extra;
        while (r_.next_key(extra)) r_.skip();
        r_.fail();  // a WITH list holds only CTEs
        return {};
    }
    ParentGuard parent(*this, NodeTag::CommonTableExpr);
    Acc acc(info.hash);
    Ctx base = c;
    base.stmt = StmtRole::nested;
    bool write = false;
    const size_t writes = raw_.writes.size();
    int32_t body = -1;
    std::vector<Str> renamed;  // WITH t(a, b) AS (...)
    size_t own = SIZE_MAX;     // its RawCte
    int32_t location = -1;
    fields(acc, base, [&](Str key) {
        if (is(key, "ctename")) {
            Sub s;
            Str name = string_value(s);
            acc.add(key, s);
            own = raw_.ctes.size();
            raw_.ctes.push_back(RawCte{c.scope, index, name, -1});
        } else if (is(key, "aliascolnames")) {
            acc.add(key, name_strings(renamed, base));
        } else if (is(key, "ctequery")) {
            Ctx q = base;
            q.cte_index = index;
            // Its values go wherever the query reads it.
            q.output = LiteralContext::other;
            body = static_cast<int32_t>(raw_.scopes.size());
            last_tag_ = NodeTag::unknown;
            acc.add(key, value(q, key));
            write = last_tag_ == NodeTag::InsertStmt || last_tag_ == NodeTag::UpdateStmt ||
                    last_tag_ == NodeTag::DeleteStmt || last_tag_ == NodeTag::MergeStmt;
            if (own < raw_.ctes.size()) raw_.ctes[own].body = body;
        } else if (is(key, "location")) {
            location = location_value(acc);
        } else {
            return false;
        }
        return true;
    });
    Str extra;
    while (r_.next_key(extra)) acc.add(extra, value(base, extra));
    for (size_t i = 0; i < renamed.size(); ++i)
        raw_.renames.push_back(RawRename{-1, body, static_cast<int32_t>(i), renamed[i]});
    if (write) {
        st().data_modifying_cte = true;
        // Its writes are reported where its statement starts.
        int32_t at = NamePositions(sql_, s_.lex).cte_body(location);
        at = at >= 0 ? at : location >= 0 ? location : raw_.location;
        for (size_t i = writes; i < raw_.writes.size(); ++i)
            if (raw_.writes[i].scope == body) raw_.writes[i].offset = at;
    }
    return acc.done();
}

Sub Walker::locking_clause(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    bool named = false;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "lockedRels")) {
            size_t before = raw_.lock_targets.size();
            acc.add(key, field(child, key));
            named = raw_.lock_targets.size() > before;
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    if (!named && c.scope >= 0) raw_.scopes[static_cast<size_t>(c.scope)].lock_all = true;
    return acc.done();
}

// ---- INSERT / UPDATE / DELETE / MERGE -------------------------------------------

Sub Walker::insert_stmt(const NodeInfo& info, const Ctx& c) {
    int32_t scope = new_scope(c);
    Ctx base = dml_base(scope, c);
    int32_t target = -1, entry = -1;
    bool columns = false, rows = false;
    Acc acc(info.hash);
    bool ok = fields(acc, base, [&](Str key) {
        if (is(key, "relation")) {
            // The target is not visible inside the INSERT's own SELECT. The
            // fields after it (cols, onConflictClause) name its columns.
            base.target = target = target_relation(acc, key, base, access(Access::insert), false, &entry);
        } else if (is(key, "cols")) {
            acc.add(key, field(base, key));
            columns = true;
        } else if (is(key, "selectStmt")) {
            acc.add(key, field(base, key));
            rows = true;
        } else if (is(key, "onConflictClause")) {
            add_derived(scope, "excluded");
            raw_.entries.back().qualified_only = true;
            acc.add(key, field(base, key));
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    // Without a column list the values go to the columns by position: every
    // column may be written.
    if (rows && !columns && target >= 0) all_columns_of(scope, target, true, -1);
    set_kind(c, StatementKind::insert);
    finish_write(add_write(c, StatementKind::insert, scope, target, entry), acc);
    return acc.done();
}

Sub Walker::on_conflict(const NodeInfo&, const Ctx& c) {
    Ctx child = c;
    child.res = ResMode::output;
    child.role = Role::none;
    Acc acc(kStructSeed);
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "action")) {
            Sub s;
            Str v = string_value(s);
            acc.add(key, s);
            if (is(v, "ONCONFLICT_UPDATE") && c.target >= 0)
                raw_.relations[static_cast<size_t>(c.target)].access.add(Access::update);
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    return acc.done();
}

// UPDATE and DELETE: one walk, since their fields differ only by UPDATE's SET
// list (targetList) and the name of their extra FROM items (fromClause, usingClause).
Sub Walker::update_or_delete(const NodeInfo& info, const Ctx& c) {
    const StatementKind kind = info.kind;  // update or delete_
    int32_t scope = new_scope(c);
    Ctx base = dml_base(scope, c);
    int32_t target = -1, entry = -1;
    bool where = false;
    Acc acc(info.hash);
    bool ok = fields(acc, base, [&](Str key) {
        if (is(key, "relation")) {
            // The fields after it (UPDATE's SET list) name its columns.
            AccessSet a = access(kind == StatementKind::update ? Access::update : Access::delete_);
            base.target = target = target_relation(acc, key, base, a, true, &entry);
        } else if (is(key, "whereClause")) {
            acc.add(key, field(base, key));
            where = true;
            if (c.stmt != StmtRole::nested) st().has_where = true;
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    set_kind(c, kind);
    int32_t w = add_write(c, kind, scope, target, entry);
    raw_.writes[static_cast<size_t>(w)].has_where = where;
    finish_write(w, acc);
    return acc.done();
}

Sub Walker::merge_stmt(const NodeInfo& info, const Ctx& c) {
    int32_t scope = new_scope(c);
    Ctx base = dml_base(scope, c);
    int32_t target = -1, entry = -1;
    Acc acc(info.hash);
    // The MERGE first, so that its actions can name it.
    const int32_t merge = add_write(c, StatementKind::merge, scope, -1, -1);
    const size_t first_action = raw_.writes.size();
    bool ok = fields(acc, base, [&](Str key) {
        if (is(key, "relation")) {
            target = target_relation(acc, key, base, AccessSet{}, true, &entry);
        } else if (is(key, "mergeWhenClauses")) {
            Ctx m = base;
            m.target = target;
            merge_base_ = merge;
            merge_entry_ = entry;
            acc.add(key, value(m, key));
            merge_base_ = -1;
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    set_kind(c, StatementKind::merge);
    raw_.writes[static_cast<size_t>(merge)].target = target;
    raw_.writes[static_cast<size_t>(merge)].entry = entry;
    finish_write(merge, acc);
    for (size_t i = first_action; i < raw_.writes.size(); ++i)
        if (raw_.writes[i].merge == merge) raw_.writes[i].offset = raw_.writes[static_cast<size_t>(merge)].offset;
    return acc.done();
}

Sub Walker::merge_when(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    bool insert = false, columns = false, values = false;
    int32_t action = -1;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "commandType")) {
            Sub s;
            Str v = string_value(s);
            acc.add(key, s);
            Access a = Access::read;
            StatementKind kind = StatementKind::select;
            if (is(v, "CMD_UPDATE")) a = Access::update, kind = StatementKind::update;
            if (is(v, "CMD_INSERT")) a = Access::insert, kind = StatementKind::insert;
            if (is(v, "CMD_DELETE")) a = Access::delete_, kind = StatementKind::delete_;
            insert = is(v, "CMD_INSERT");
            if (a != Access::read && c.target >= 0) raw_.relations[static_cast<size_t>(c.target)].access.add(a);
            if (kind != StatementKind::select && merge_base_ >= 0) {
                const RawWrite& m = raw_.writes[static_cast<size_t>(merge_base_)];
                RawWrite w;
                w.kind = kind;
                w.place = m.place;
                w.scope = m.scope;
                w.target = c.target;
                w.entry = merge_entry_;
                w.merge = merge_base_;
                raw_.writes.push_back(w);
                action = static_cast<int32_t>(raw_.writes.size() - 1);
            }
        } else if (is(key, "condition")) {
            // The action this condition selects rows for is known only here.
            if (action >= 0) raw_.writes[static_cast<size_t>(action)].has_where = true;
            acc.add(key, boolean_root(child, Clause::where, CondRole::merge_when, action));
        } else if (is(key, "targetList")) {
            // INSERT's column list or UPDATE's SET list, by the action's command.
            acc.add(key, value(role_context(insert ? FieldRole::insert_columns : FieldRole::update_set, child), key));
            columns = true;
        } else if (is(key, "values")) {
            acc.add(key, field(child, key));
            values = true;
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    // INSERT VALUES (...) without a column list: by position, any column.
    if (insert && values && !columns && c.target >= 0) all_columns_of(c.scope, c.target, true, -1);
    return acc.done();
}

// ---- COPY ------------------------------------------------------------------------

Sub Walker::copy_stmt(const NodeInfo& info, const Ctx& c) {
    int32_t scope = new_scope(c);
    Ctx base = dml_base(scope, c);
    base.clause = Clause::utility;
    base.outer = c.stmt != StmtRole::nested;
    int32_t rel = -1;
    size_t columns_begin = 0, columns_end = 0;
    bool is_from = false, is_program = false, has_file = false, has_query = false;
    Acc acc(info.hash);
    bool ok = fields(acc, base, [&](Str key) {
        if (is(key, "relation")) {
            Ctx t = base;
            size_t before = raw_.relations.size();
            acc.add(key, value(t, key));
            if (raw_.relations.size() > before) rel = static_cast<int32_t>(before);
        } else if (is(key, "query")) {
            acc.add(key, field(base, key));
            has_query = true;
        } else if (is(key, "attlist")) {
            columns_begin = raw_.columns.size();
            acc.add(key, name_columns(base, key, scope, rel));
            columns_end = raw_.columns.size();
        } else if (is(key, "is_from") || is(key, "is_program")) {
            Str v = r_.scalar();
            (is(key, "is_from") ? is_from : is_program) = is(v, "true");
            acc.add(key, Sub{hash_bytes(v)});
        } else if (is(key, "filename")) {
            Sub s;
            string_value(s);
            acc.add(key, s);
            has_file = true;
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    if (rel >= 0) {
        raw_.relations[static_cast<size_t>(rel)].access = access(is_from ? Access::insert : Access::read);
        // COPY FROM ... WHERE filters the incoming rows, not the table's.
        if (!is_from) add_entry(scope, rel, true);
        // Without a column list COPY reads or writes every column.
        if (columns_end == columns_begin)
            all_columns_of(scope, rel, is_from, raw_.relations[static_cast<size_t>(rel)].location);
    }
    for (size_t i = columns_begin; i < columns_end; ++i) raw_.columns[i].written = is_from;
    if (c.stmt == StmtRole::top) {
        CopyFacts f;
        f.direction = is_from ? CopyDirection::from : CopyDirection::to;
        f.endpoint = is_program ? CopyEndpoint::program
                     : has_file ? CopyEndpoint::file
                     : is_from  ? CopyEndpoint::stdin_
                                : CopyEndpoint::stdout_;
        f.query = has_query;
        st().copy = f;
    }
    set_kind(c, StatementKind::copy);
    return acc.done();
}

// ---- SET / RESET -------------------------------------------------------------------

Sub Walker::variable_set(const NodeInfo& info, const Ctx& c) {
    Ctx base = child_of(info, c);
    base.stmt = StmtRole::nested;
    base.clause = Clause::set_value;
    Str kind, name;
    bool local = false;
    Acc acc(info.hash);
    bool ok = fields(acc, base, [&](Str key) {
        if (is(key, "kind") || is(key, "name")) {
            Sub s;
            (is(key, "kind") ? kind : name) = string_value(s);
            acc.add(key, s);
        } else if (is(key, "is_local")) {
            Str v = r_.scalar();
            local = is(v, "true");
            acc.add(key, Sub{hash_bytes(v)});
        } else {
            return false;  // args
        }
        return true;
    });
    if (!ok) return {};
    std::string parameter = is(kind, "VAR_RESET_ALL") ? std::string("all") : lower(name);
    Statement& s = st();
    if (s.parameter.empty()) s.parameter = parameter;
    if (c.stmt == StmtRole::top) {
        s.set_local = local;
        s.set_default = is(kind, "VAR_SET_DEFAULT");
        if (changes_parsing(parameter)) s.changes_parse_settings = true;
        set_kind(c, kind.substr(0, 9) == "VAR_RESET" ? StatementKind::reset : StatementKind::set);
    }
    return acc.done();
}

// ---- DROP / COMMENT ON / SECURITY LABEL ------------------------------------------

Sub Walker::drop_like(const NodeInfo& info, const Ctx& c) {
    Ctx base = child_of(info, c);
    base.stmt = StmtRole::nested;
    base.ddl = true;
    base.access = access(Access::ddl);
    base.clause = Clause::ddl;
    std::string object_type;
    std::vector<NameList> names;
    Acc acc(info.hash);
    bool ok = fields(acc, base, [&](Str key) {
        if (is(key, "objects") && r_.peek() == '[') {
            Acc list(kArraySeed);
            r_.begin_array();
            while (r_.next_element()) {
                NameList n;
                Sub s = list_of_names(n, base);
                names.push_back(n);
                list.merge(s);
                list.h = combine(list.h, s.hash);
            }
            acc.add(key, list.done());
        } else if (is(key, "object")) {
            NameList n;
            acc.add(key, list_of_names(n, base));
            names.push_back(n);
        } else if ((is(key, "removeType") || is(key, "objtype")) && r_.peek() == '"') {
            Sub s;
            object_type = object_type_name(string_value(s));
            acc.add(key, s);
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    bool column = object_type == "column";
    if (relation_like(object_type) || column) {
        for (const NameList& n : names) {
            uint8_t parts = static_cast<uint8_t>(n.count - (column ? 1 : 0));
            if (n.overflow || parts < 1 || parts > 3) continue;
            Str name = n.parts[parts - 1];
            Str schema = parts >= 2 ? n.parts[parts - 2] : Str{};
            Str catalog = parts == 3 ? n.parts[0] : Str{};
            add_relation(base, catalog, schema, name, {}, access(Access::ddl), -1, false);
        }
    }
    if (c.stmt == StmtRole::top) st().object_type = object_type;
    set_kind(c, info.kind);
    return acc.done();
}

// ---- everything else -----------------------------------------------------------------

Sub Walker::utility_stmt(const NodeInfo& info, const Ctx& c) {
    const NodeTag tag = info.tag;
    Ctx base = child_of(info, c);
    base.stmt = StmtRole::nested;
    if (info.flags & node_flag::ddl) {
        base.ddl = true;
        base.access = access(Access::ddl);
        base.clause = Clause::ddl;
    } else if (info.flags & node_flag::maintenance) {
        base.access = access(Access::ddl);
        base.clause = Clause::utility;
    } else {
        base.access = access(Access::read);
        base.clause = Clause::utility;
    }
    base.outer = c.stmt != StmtRole::nested;

    const bool top = c.stmt == StmtRole::top;
    Statement& stmt = st();
    size_t defelems = s_.defelems.size();
    StatementKind kind = info.kind;
    bool flag = false;
    Str subkind;
    std::string object_type;
    std::string function_name;
    Str own_name;

    Acc acc(info.hash);
    bool ok = fields(acc, base, [&](Str key) {
        const bool string = r_.peek() == '"';
        if (tag == NodeTag::DeclareCursorStmt && is(key, "options") && r_.peek() != '[') {
            // CURSOR_OPT_* bits; WITH HOLD keeps the cursor past its transaction.
            constexpr unsigned kCursorOptHold = 0x0020;
            Str v = r_.scalar();
            unsigned bits = 0;
            std::from_chars(v.data(), v.data() + v.size(), bits);
            if (top) stmt.cursor_with_hold = (bits & kCursorOptHold) != 0;
            acc.add(key, Sub{hash_bytes(v)});
        } else if (is(key, "funcname") && tag == NodeTag::CreateFunctionStmt) {
            NameList n;
            acc.add(key, name_list(n, base));
            for (uint8_t i = 0; i < n.count; ++i) {
                if (i) function_name += '.';
                function_name += n.parts[i];
            }
        } else if (string &&
                   (is(key, "objtype") || is(key, "removeType") || is(key, "renameType") || is(key, "objectType"))) {
            Sub s;
            object_type = object_type_name(string_value(s));
            acc.add(key, s);
        } else if (string && (is(key, "kind") || is(key, "target") || is(key, "stmt_type"))) {
            Sub s;
            subkind = string_value(s);
            acc.add(key, s);
        } else if (!string &&
                   (is(key, "is_grant") || is(key, "is_vacuumcmd") || is(key, "ismove") || is(key, "is_procedure"))) {
            Str v = r_.scalar();
            flag = is(v, "true");
            acc.add(key, Sub{hash_bytes(v)});
        } else if (string && tag == NodeTag::VariableShowStmt && is(key, "name")) {
            Sub s;
            stmt.parameter = lower(string_value(s));
            acc.add(key, s);
        } else if (string && is_name_key(tag, key)) {
            Sub s;
            Str v = string_value(s);
            acc.add(key, s);
            if (own_name.empty()) own_name = v;
            if (top && stmt.name.empty()) stmt.name = v;
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};

    auto defelem = [&](Str name) -> const DefElemValue* {
        for (size_t i = defelems; i < s_.defelems.size(); ++i)
            if (s_.defelems[i].name == name) return &s_.defelems[i];
        return nullptr;
    };
    auto dynamic = [&](DynamicCodeKind k, std::string language, std::string name) {
        DynamicCode d;
        d.kind = k;
        d.language = std::move(language);
        d.name = std::move(name);
        stmt.dynamic_code.push_back(std::move(d));
    };

    switch (tag) {
        case NodeTag::TransactionStmt:
            kind = transaction_kind(subkind);
            break;
        case NodeTag::GrantStmt:
            kind = flag ? StatementKind::grant : StatementKind::revoke;
            break;
        case NodeTag::GrantRoleStmt:
            kind = flag ? StatementKind::grant_role : StatementKind::revoke_role;
            break;
        case NodeTag::VacuumStmt:
            kind = flag ? StatementKind::vacuum : StatementKind::analyze;
            break;
        case NodeTag::FetchStmt:
            kind = flag ? StatementKind::move : StatementKind::fetch;
            break;
        case NodeTag::DefineStmt:
            object_type = object_type_name(subkind);
            kind = define_kind(object_type);
            break;
        case NodeTag::CreateTableAsStmt:
            if (object_type == "matview") kind = StatementKind::create_materialized_view;
            break;
        case NodeTag::CreateFunctionStmt: {
            kind = flag ? StatementKind::create_procedure : StatementKind::create_function;
            const DefElemValue* lang = defelem("language");
            dynamic(DynamicCodeKind::function_body, lang ? lower(lang->arg) : std::string("sql"), function_name);
            if (top && stmt.name.empty()) stmt.name = function_name;
            break;
        }
        case NodeTag::DoStmt: {
            const DefElemValue* lang = defelem("language");
            dynamic(DynamicCodeKind::do_block, lang ? lower(lang->arg) : std::string("plpgsql"), {});
            break;
        }
        case NodeTag::PrepareStmt:
            dynamic(DynamicCodeKind::prepare, {}, std::string(own_name));
            break;
        case NodeTag::ExecuteStmt:  // also inside EXPLAIN or CREATE TABLE AS
            dynamic(DynamicCodeKind::execute, {}, std::string(own_name));
            break;
        case NodeTag::RuleStmt:
            dynamic(DynamicCodeKind::rule_action, {}, {});
            break;
        case NodeTag::ExplainStmt:
            if (const DefElemValue* a = defelem("analyze")) stmt.explain_analyze = !a->has_arg || truthy(a->arg);
            break;
        case NodeTag::DiscardStmt: {
            std::string target = lower(subkind.substr(subkind.find('_') + 1));
            if (top) stmt.name = target;
            if (target == "all" && top) stmt.changes_parse_settings = true;
            break;
        }
        case NodeTag::AlterSystemStmt:
            if (top && changes_parsing(stmt.parameter)) stmt.changes_parse_settings = true;
            break;
        default:
            break;
    }
    s_.defelems.resize(defelems);
    if (top && !object_type.empty()) stmt.object_type = object_type;
    set_kind(c, kind);
    return acc.done();
}

}  // namespace pgmoat::sql::detail
