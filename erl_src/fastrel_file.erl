%% SPDX-License-Identifier: Apache-2.0
%% @doc fastrel's own files, wherever fastrel runs from (an application with a `priv/'
%% directory, or the `fastrel' escript, which carries `priv/' in its archive), and the one
%% way fastrel writes a file: to a temporary name beside it, then renamed over it, so no
%% reader (a running node, make_relup, a concurrent fastrel) ever sees half of it.
-module(fastrel_file).

-export([priv_file/1, nif_path/1, write_atomic/2, write_atomic/3]).

-include_lib("kernel/include/file.hrl").

-define(APP, fastrel).

%% @doc The bytes of `priv/Name' (`Name' may have directories, `"templates/x"'): from the
%% application's priv dir, else from the escript's archive.
-spec priv_file(file:filename()) -> {ok, binary()} | {error, not_found}.
priv_file(Name) ->
    Priv = code:priv_dir(?APP),
    case is_list(Priv) andalso file:read_file(filename:join(Priv, Name)) of
        {ok, Bin} -> {ok, Bin};
        _ ->
            case archive_file(Name) of
                {ok, Bin} -> {ok, Bin};
                error -> {error, not_found}
            end
    end.

archive_file(Name) ->
    case erl_prim_loader:get_file(filename:join([escript_name(), atom_to_list(?APP), "priv", Name])) of
        {ok, Bin, _} -> {ok, Bin};
        error -> error
    end.

escript_name() ->
    try escript:script_name() catch _:_ -> "" end.

%% @doc Where the NIF library `Lib' (no `.so') is loaded from, as `erlang:load_nif/2'
%% takes it (no extension), tried in order: `$FASTREL_NIF_PATH', the application's priv
%% dir, a `priv/' next to the (symlink-resolved) escript, and the copy embedded in the
%% escript archive (extracted once into the user cache).
-spec nif_path(string()) -> {ok, string()} | {error, term()}.
nif_path(Lib) ->
    first([fun from_env/1, fun from_priv_dir/1, fun next_to_escript/1, fun from_escript_archive/1], Lib).

first([], Lib) -> {error, {nif_not_found, Lib}};
first([F | Fs], Lib) ->
    case try F(Lib) catch _:_ -> error end of
        {ok, _} = Ok -> Ok;
        _ -> first(Fs, Lib)
    end.

so(Base) -> Base ++ ".so".
%% Not filelib:is_regular/1: loading filelib would add a millisecond to the first call
%% of every relnif function in a fresh VM.
exists(Base) ->
    case file:read_file_info(so(Base)) of
        {ok, #file_info{type = regular}} -> true;
        _ -> false
    end.

from_env(_) ->
    case os:getenv("FASTREL_NIF_PATH") of
        false -> none;
        "" -> none;
        P -> {ok, filename:rootname(P, ".so")}
    end.

from_priv_dir(Lib) ->
    case code:priv_dir(?APP) of
        {error, bad_name} -> none;
        Dir ->
            Base = filename:join(Dir, Lib),
            case exists(Base) of true -> {ok, Base}; false -> none end
    end.

next_to_escript(Lib) ->
    Dir = filename:dirname(resolve(filename:absname(escript:script_name()), 16)),
    case [B || B <- [filename:join([Dir, "priv", Lib]), filename:join(Dir, Lib)], exists(B)] of
        [B | _] -> {ok, B};
        [] -> none
    end.

resolve(Path, 0) -> Path;
resolve(Path, N) ->
    case file:read_link(Path) of
        {ok, Target} -> resolve(filename:absname(Target, filename:dirname(Path)), N - 1);
        {error, _} -> Path
    end.

from_escript_archive(Lib) ->
    case archive_file(so(Lib)) of
        {ok, Bin} ->
            Md5 = erlang:md5(Bin),
            Hash = binary_to_list(binary:encode_hex(Md5)),
            Base = filename:join([filename:basedir(user_cache, "fastrel"), Hash, Lib]),
            ok = filelib:ensure_dir(so(Base)),
            %% A copy cut short (a full disk, a killed extraction by an older fastrel, a
            %% user's edit) would be mapped as is and kill the VM with SIGBUS, on every
            %% run: checked against the embedded bytes each time, replaced when it differs.
            %% Written atomically, so no process, this one or a concurrent fastrel, ever
            %% maps a half-written library.
            case intact(so(Base), byte_size(Bin), Md5) orelse write_atomic(so(Base), Bin) of
                true -> {ok, Base};
                ok -> {ok, Base};
                {error, _} -> none
            end;
        error -> none
    end.

intact(File, Size, Md5) ->
    case file:read_file_info(File) of
        {ok, #file_info{type = regular, size = Size}} ->
            case file:read_file(File) of
                {ok, Bytes} -> erlang:md5(Bytes) =:= Md5;
                {error, _} -> false
            end;
        _ -> false
    end.

%% @doc Writes `Data' to `Path' through a temporary file beside it (a name unique to this
%% VM and call, so concurrent writers never share one), renamed over `Path': `Path' is
%% either untouched or complete. The temporary file is removed on failure.
-spec write_atomic(file:filename(), iodata()) -> ok | {error, file:posix() | badarg | terminated | system_limit}.
write_atomic(Path, Data) ->
    write_atomic(Path, Data, undefined).

%% @doc `write_atomic/2', the file getting mode `Mode' (`undefined': the umask's default)
%% before it is renamed into place.
-spec write_atomic(file:filename(), iodata(), non_neg_integer() | undefined) ->
          ok | {error, file:posix() | badarg | terminated | system_limit}.
write_atomic(Path0, Data, Mode) ->
    Path = filename:flatten(Path0),
    Tmp = filename:join(filename:dirname(Path),
                        "." ++ filename:basename(Path) ++ ".tmp" ++ os:getpid() ++ "."
                        ++ integer_to_list(erlang:unique_integer([positive]))),
    Steps = [fun() -> file:write_file(Tmp, Data) end,
             fun() when Mode =:= undefined -> ok; () -> file:change_mode(Tmp, Mode) end,
             fun() -> file:rename(Tmp, Path) end],
    case run(Steps) of
        ok -> ok;
        {error, _} = E ->
            _ = file:delete(Tmp),
            E
    end.

run([]) -> ok;
run([F | Fs]) ->
    case F() of
        ok -> run(Fs);
        {error, _} = E -> E
    end.
