"""Lua scripts for the operations that need several steps inside Redis.

They run with EVALSHA (falling back to EVAL when the server has not cached them yet), so each
operation stays one round trip and is atomic. The scripts receive JSON text and return JSON
text: values are never decoded inside Lua, so numbers keep their exact form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any


class Script:
    """A Lua script and its SHA1, as EVALSHA wants it."""

    __slots__ = ("name", "source", "sha")

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"Script({self.name!r})"


class ScriptCall:
    """One queued call of a script: ``EVALSHA sha len(keys) *keys *args``."""

    __slots__ = ("script", "keys", "args")

    def __init__(self, script: Script, keys: tuple[str, ...], args: tuple[object, ...]) -> None:
        self.script = script
        self.keys = keys
        self.args = args

    def evalsha_args(self) -> tuple[object, ...]:
        return ("EVALSHA", self.script.sha, len(self.keys), *self.keys, *self.args)

    def eval_args(self) -> tuple[object, ...]:
        return ("EVAL", self.script.source, len(self.keys), *self.keys, *self.args)


# Shared Lua helpers. RedisJSON cannot address an object member whose name holds a backslash
# or both quote characters, or starts with a space (the path parser drops it), so such members
# are edited by splicing the object's JSON text. So is the member "*": fakeredis with jsonpath-ng
# before 1.16 (the newest on Python 3.10) reads ["*"] as a wildcard (see _paths.is_path_safe_key).
_LUA_COMMON = r"""
local DOC = KEYS[1]
local function need_doc()
  if redis.call('EXISTS', DOC) == 0 then
    return redis.error_reply("ERR redis-pydantic: the document doesn't exist")
  end
end
local function safe(k)
  return string.find(k, '\\', 1, true) == nil
     and not (string.find(k, '"', 1, true) and string.find(k, "'", 1, true))
     and string.sub(k, 1, 1) ~= ' '
     and k ~= '*'
end
local function member_path(path, k)
  if string.find(k, '"', 1, true) then return path .. "['" .. k .. "']" end
  return path .. '["' .. k .. '"]'
end
local function ws(s, i)
  local _, e = string.find(s, '^[ \t\r\n]*', i)
  return e + 1
end
local function str_end(s, i)
  local j = i + 1
  while true do
    local k = string.find(s, '["\\]', j)
    if string.sub(s, k, k) == '\\' then j = k + 2 else return k end
  end
end
local function value_end(s, i)
  local c = string.sub(s, i, i)
  if c == '"' then return str_end(s, i) end
  if c == '{' or c == '[' then
    local depth, j = 0, i
    while true do
      local k = string.find(s, '["{}%[%]]', j)
      local ch = string.sub(s, k, k)
      if ch == '"' then j = str_end(s, k) + 1
      elseif ch == '{' or ch == '[' then depth = depth + 1; j = k + 1
      else
        depth = depth - 1
        if depth == 0 then return k end
        j = k + 1
      end
    end
  end
  return string.find(s, '[,}%] \t\r\n]', i) - 1
end
-- members of the object at `path` as a list of {name, name_json, value_json}
local function members(path)
  local s = redis.call('JSON.GET', DOC, path)
  if not s or s == '[]' then return nil end
  local i = ws(s, string.find(s, '{', 1, true) + 1)
  local out = {}
  if string.sub(s, i, i) == '}' then return out end
  while true do
    local ke = str_end(s, i)
    local ktext = string.sub(s, i, ke)
    i = ws(s, ws(s, ke + 1) + 1)
    local ve = value_end(s, i)
    out[#out + 1] = {cjson.decode(ktext), ktext, string.sub(s, i, ve)}
    i = ws(s, ve + 1)
    if string.sub(s, i, i) == '}' then return out end
    i = ws(s, i + 1)
  end
end
local function store(path, ms)
  local parts = {}
  for _, m in ipairs(ms) do parts[#parts + 1] = m[2] .. ':' .. m[3] end
  redis.call('JSON.SET', DOC, path, '{' .. table.concat(parts, ',') .. '}')
end
-- remove member k of the object at path; returns its JSON text or nil. The other members keep
-- their order, as in a Python dict: JSON.DEL moves the last member into the freed place, so it
-- only removes the last member; any other is spliced out of the object's text.
local function take(path, k)
  local keys = redis.call('JSON.OBJKEYS', DOC, path)[1]
  if type(keys) ~= 'table' or #keys == 0 then return nil end
  local p = safe(k) and keys[#keys] == k and member_path(path, k)
  -- fakeredis answers JSON.GET of one array match without the outer brackets; arrays are
  -- therefore taken through the object text, which both servers return the same way.
  if p and redis.call('JSON.TYPE', DOC, p)[1] ~= 'array' then
    local v = redis.call('JSON.GET', DOC, p)
    if not v or v == '[]' then return nil end
    redis.call('JSON.DEL', DOC, p)
    return string.sub(v, 2, -2)
  end
  local ms = members(path)
  if not ms then return nil end
  for i, m in ipairs(ms) do
    if m[1] == k then
      table.remove(ms, i)
      store(path, ms)
      return m[3]
    end
  end
  return nil
end
"""

#: ARGV: op, dict path, then op arguments. Returns per op (see the Python callers).
DICT_OPS = Script(
    "dict_ops",
    _LUA_COMMON
    + r"""
local op, path = ARGV[1], ARGV[2]
local err = need_doc()
if err then return err end
if redis.call('JSON.TYPE', DOC, path)[1] ~= 'object' then
  return redis.error_reply('ERR redis-pydantic: Path ' .. path .. ' is not an object in the stored document')
end
if op == 'set' then
  -- In the order given, as dict.update does: a run of path-safe keys goes by JSON.MSET (in
  -- chunks: Lua's unpack() stops near 8000 values), a key no path can name is spliced in.
  local mset = {}
  local function flush()
    if #mset > 0 then redis.call('JSON.MSET', unpack(mset)) end
    mset = {}
  end
  for i = 3, #ARGV, 2 do
    local k, v = ARGV[i], ARGV[i + 1]
    if safe(k) then
      mset[#mset + 1] = DOC; mset[#mset + 1] = member_path(path, k); mset[#mset + 1] = v
      if #mset >= 3000 then flush() end
    else
      flush()
      local ms, found = members(path), false
      for _, m in ipairs(ms) do
        if m[1] == k then m[3] = v; found = true end
      end
      if not found then ms[#ms + 1] = {k, cjson.encode(k), v} end
      store(path, ms)
    end
  end
  flush()
  return 1
elseif op == 'pop' then
  local v = take(path, ARGV[3])
  if v == nil then return {0} end
  return {1, v}
elseif op == 'popitem' then
  local keys = redis.call('JSON.OBJKEYS', DOC, path)[1]
  if #keys == 0 then return {0} end
  local k = keys[#keys]
  return {1, k, take(path, k)}
end
return redis.error_reply('ERR redis-pydantic: unknown dict op ' .. tostring(op))
""",
)

#: The start of the list scripts (ARGV: list path, index, ...): the document must exist and hold
#: a list at the path, whose length is then ``n``.
_LIST_PRELUDE = r"""
local DOC, path, index = KEYS[1], ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', DOC) == 0 then
  return redis.error_reply("ERR redis-pydantic: the document doesn't exist")
end
local n = redis.call('JSON.ARRLEN', DOC, path)[1]
if not n then return redis.error_reply('ERR redis-pydantic: Path ' .. path .. ' is not a list') end
"""

#: ARGV: list path, index. Pops like Python's list.pop: IndexError text for a bad index.
LIST_POP = Script(
    "list_pop",
    _LIST_PRELUDE
    + r"""
if n == 0 then return {0, 'pop from empty list'} end
if index < -n or index >= n then return {0, 'pop index out of range'} end
return {1, redis.call('JSON.ARRPOP', DOC, path, index)[1]}
""",
)

#: ARGV: list path, index, item JSON. Inserts like Python's list.insert (clamps the index).
LIST_INSERT = Script(
    "list_insert",
    _LIST_PRELUDE
    + r"""
if index < 0 then index = math.max(n + index, 0) end
if index >= n then return redis.call('JSON.ARRAPPEND', DOC, path, ARGV[3])[1] end
return redis.call('JSON.ARRINSERT', DOC, path, index, ARGV[3])[1]
""",
)

#: KEYS: lock key, document key. ARGV: lock token, the milliseconds to extend the document's
#: expiry to when it has one ("" for none: see ``Meta.refresh_ttl``), then for each value: its
#: path, the path of the object that holds it ("" for the document itself) and its JSON. Writes
#: the values and releases the lock only while the caller still owns it; returns 0 (nothing done)
#: otherwise. When a value's place no longer is in an object (another client set a nested model
#: to null), nothing is written, the lock is released and an error names the place.
SAVE_AND_RELEASE = Script(
    "save_and_release",
    r"""
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if #ARGV > 2 then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('DEL', KEYS[1])
    return redis.error_reply("ERR redis-pydantic: the document doesn't exist")
  end
  local args = {}
  for i = 3, #ARGV, 3 do
    if ARGV[i + 1] ~= '' then  -- JSON.MSET would answer OK and write nothing there
      local t = redis.call('JSON.TYPE', KEYS[2], ARGV[i + 1])
      if type(t) ~= 'table' or t[1] ~= 'object' then
        redis.call('DEL', KEYS[1])
        return redis.error_reply("ERR redis-pydantic: " .. ARGV[i] .. " cannot be written: " ..
          ARGV[i + 1] .. " does not hold an object in the document")
      end
    end
    args[#args + 1] = KEYS[2]; args[#args + 1] = ARGV[i]; args[#args + 1] = ARGV[i + 2]
  end
  redis.call('JSON.MSET', unpack(args))
  if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[2], ARGV[2], 'XX') end
end
redis.call('DEL', KEYS[1])
return 1
""",
)

#: KEYS: the document key. ARGV: the document JSON, its expiry in milliseconds. Creates the
#: document (JSON.SET NX) and, only when this call created it, gives it its expiry in the same
#: step, so it never exists without one; a document that already exists is left as it is, expiry
#: included. Answers like JSON.SET NX.
CREATE = Script(
    "create",
    r"""
local created = redis.call('JSON.SET', KEYS[1], '$', ARGV[1], 'NX')
if created then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return created
""",
)


#: KEYS: document keys. ARGV: the document JSON of each key, then the expiry of each in
#: milliseconds ("" for none). Writes every document (JSON.MSET at "$") and then gives each its
#: expiry, all in one step; when a key holds another Redis type, nothing is written and no expiry
#: is set (a key of another program never gets one). Answers "OK".
WRITE_DOCUMENTS = Script(
    "write_documents",
    r"""
local n = #KEYS
for i = 1, n do  -- RedisJSON refuses a key of another type (WRONGTYPE): nothing is written
  local t = redis.pcall('JSON.TYPE', KEYS[i])
  if type(t) == 'table' and t.err then return t end
end
local first = 1
while first <= n do  -- Lua's unpack() takes at most about 8000 values: 2000 documents at a time
  local last, args = math.min(n, first + 1999), {}
  for i = first, last do
    args[#args + 1] = KEYS[i]; args[#args + 1] = '$'; args[#args + 1] = ARGV[i]
  end
  redis.call('JSON.MSET', unpack(args))
  first = last + 1
end
for i = 1, n do
  if ARGV[n + i] ~= '' then redis.call('PEXPIRE', KEYS[i], ARGV[n + i]) end
end
return 'OK'
""",
)


def write_documents(keys: list[str], payloads: list[Any], ttls: list[int | None]) -> ScriptCall:
    """The :data:`WRITE_DOCUMENTS` call that stores ``payloads`` at ``keys`` with their expiries."""
    return ScriptCall(WRITE_DOCUMENTS, tuple(keys), (*payloads, *("" if ms is None else ms for ms in ttls)))


def _as_function(script: Script) -> str:
    # Each script body becomes a function of its own KEYS and ARGV, so the batch can call it.
    return f"local function {script.name}(KEYS, ARGV)\n{script.source}\nend\n"


#: The scripts a batch can run among its commands (the others make it go by MULTI/EXEC).
_IN_BATCH = (DICT_OPS, LIST_POP, LIST_INSERT, CREATE, WRITE_DOCUMENTS)


#: ARGV: the commands of a batch, each as its argument count followed by its arguments; a call
#: of one of the scripts above is written ``@<name> <key count> <keys...> <args...>``. Every
#: command runs, in order, even after one fails (as inside MULTI/EXEC), and the reply is the
#: list of their replies, errors included. The whole batch is one atomic script run.
BATCH = Script(
    "batch",
    "".join(_as_function(script) for script in _IN_BATCH)
    + "local scripts = {"
    + ", ".join(f"['@{script.name}'] = {script.name}" for script in _IN_BATCH)
    + "}\n"
    + r"""
-- Without RedisJSON nothing may run (MULTI/EXEC would refuse the whole transaction too).
if #KEYS > 0 then
  local probe = redis.pcall('JSON.TYPE', KEYS[1])
  if type(probe) == 'table' and probe.err and string.find(string.lower(probe.err), 'unknown') then
    return redis.error_reply("ERR unknown command 'JSON.TYPE': the RedisJSON module is not loaded")
  end
end
local out, i, n = {}, 1, #ARGV
while i <= n do
  local count = tonumber(ARGV[i])
  local script = scripts[ARGV[i + 1]]
  local reply
  if script then
    local nkeys = tonumber(ARGV[i + 2])
    local ok, res = pcall(script, {unpack(ARGV, i + 3, i + 2 + nkeys)},
                          {unpack(ARGV, i + 3 + nkeys, i + count)})
    if ok or type(res) == 'table' then reply = res else reply = redis.error_reply(tostring(res)) end
  else
    reply = redis.pcall(unpack(ARGV, i + 1, i + count))
  end
  if reply == nil then reply = false end
  out[#out + 1] = reply
  i = i + count + 1
end
return out
""",
)

#: Commands whose arguments are all keys.
_ALL_KEYS = frozenset({"DEL", "UNLINK", "EXISTS"})
#: Commands that may name more than one key (see command_keys).
_SEVERAL_KEYS = _ALL_KEYS | {"JSON.MSET", "JSON.MGET"}

#: Lua's unpack() stops near 8000 values; a batch with a longer command goes by MULTI/EXEC.
MAX_BATCH_COMMAND_ARGS = 7000


def command_keys(command: tuple[Any, ...] | ScriptCall) -> tuple[Any, ...]:
    """The keys a command of the library touches (a script call declares its own)."""
    if type(command) is tuple:
        name = command[0]
        if name == "JSON.MSET":  # key path value, repeated
            return command[1::3]
        if name == "JSON.MGET":  # keys, then one path
            return command[1:-1]
        if name in _ALL_KEYS:
            return command[1:]
        return command[1:2]  # every other command of the library names one key, first
    return command.keys  # type: ignore[union-attr]


def batch_call(commands: Iterable[tuple[Any, ...] | ScriptCall]) -> ScriptCall | None:
    """The :data:`BATCH` call that runs ``commands`` as one atomic step, or ``None`` if one of
    them is too long for it. The keys the commands touch are declared, as Redis asks."""
    keys: dict[Any, None] = {}
    argv: list[Any] = []
    for command in commands:
        if type(command) is tuple:
            if len(command) > MAX_BATCH_COMMAND_ARGS:
                return None
            if command[0] in _SEVERAL_KEYS or len(command) < 2:
                keys.update(dict.fromkeys(command_keys(command)))
            else:  # the key, first (see command_keys)
                keys[command[1]] = None
            argv.append(len(command))
            argv += command
        else:
            call: ScriptCall = command  # type: ignore[assignment]
            size = len(call.keys) + len(call.args) + 2
            if size > MAX_BATCH_COMMAND_ARGS or call.script not in _IN_BATCH:
                return None
            keys.update(dict.fromkeys(call.keys))
            argv += (size, "@" + call.script.name, len(call.keys), *call.keys, *call.args)
    return ScriptCall(BATCH, tuple(keys), tuple(argv))
