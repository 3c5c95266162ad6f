#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% make_tar, systools vs relnif, interleaved in one VM (boot file made first), on:
%%  - a release of 15 installed OTP applications plus this ERTS (RUNS times, default 5);
%%  - a large one: the same plus LARGE_COPIES (default 2) applications whose priv/ is a
%%    copy of this OTP's lib/ tree (sources, beams, shared objects, scripts: ~100 MB each),
%%    LARGE_RUNS times (default 3);
%%  - the uncompressed floor of both: relnif make_tar at {compression_level, 0} (tar
%%    framing, CRC-32 and stored deflate blocks) against GNU `tar cf` of the unpacked
%%    release, whose files are then in the page cache as well.
%% Prints each run, the medians, the ratios and the sizes (relnif's tarball is also
%% checked with `gzip -t` and GNU tar). Run from the repository root after `rebar3 compile`.
main(_) ->
    true = code:add_patha(filename:absname("_build/default/lib/fastrel/ebin")),
    {module, relnif} = code:ensure_loaded(relnif),
    Runs = list_to_integer(os:getenv("RUNS", "5")),
    LargeRuns = list_to_integer(os:getenv("LARGE_RUNS", "3")),
    Copies = list_to_integer(os:getenv("LARGE_COPIES", "2")),
    {ok, Cwd} = file:get_cwd(),
    Dir = filename:join([Cwd, "_build", "bench_make_tar"]),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    ok = file:set_cwd(Dir),
    Apps = [kernel, stdlib, sasl, compiler, crypto, syntax_tools, tools, runtime_tools, inets,
            ssl, public_key, asn1, xmerl, mnesia, os_mon],
    [application:load(A) || A <- Apps],
    Vsns = [{A, element(2, {ok, _} = application:get_key(A, vsn))} || A <- Apps],
    Big = [big_app(Dir, N) || N <- lists:seq(1, Copies)],
    ok = file:write_file("r.rel", rel(Vsns)),
    ok = file:write_file("big.rel", rel(Vsns ++ [{B, "1"} || B <- Big])),
    {ok, systools_make, _} = systools:make_script("r", [silent]),
    Path = [{path, [filename:join([Dir, "lib", "*", "ebin"]), filename:join([code:root_dir(), "lib", "*", "ebin"])]}],
    {ok, systools_make, _} = systools:make_script("big", [silent | Path]),
    compare("15 OTP apps + ERTS", "r", Runs, []),
    compare(io_lib:format("15 OTP apps + ERTS + ~w copies of OTP's lib/ in priv/", [Copies]), "big", LargeRuns, Path),
    floor("r", Runs, []),
    floor("big", LargeRuns, Path),
    ok = file:set_cwd(Cwd),
    _ = file:del_dir_r(Dir).

rel(Vsns) ->
    io_lib:format("~p.~n", [{release, {"r", "1.0"}, {erts, erlang:system_info(version)}, Vsns}]).

%% An application `bigN' with no modules and OTP's lib/ tree (regular files only) in priv/.
big_app(Dir, N) ->
    Name = list_to_atom("big" ++ integer_to_list(N)),
    App = filename:join([Dir, "lib", atom_to_list(Name) ++ "-1"]),
    ok = filelib:ensure_path(filename:join(App, "ebin")),
    ok = file:write_file(filename:join([App, "ebin", atom_to_list(Name) ++ ".app"]),
                         io_lib:format("~p.~n", [{application, Name, [{description, "bench"}, {vsn, "1"}, {modules, []}, {registered, []},
                                                                      {applications, [kernel, stdlib]}]}])),
    Lib = filename:join(code:root_dir(), "lib"),
    Copy = fun(F, ok) ->
                   To = filename:join([App, "priv", lists:nthtail(length(Lib) + 1, F)]),
                   ok = filelib:ensure_dir(To),
                   {ok, _} = file:copy(F, To),
                   ok
           end,
    ok = filelib:fold_files(Lib, "", true, fun(F, Acc) ->
                                                   case file:read_link_info(F) of
                                                       {ok, I} when element(3, I) =:= regular -> Copy(F, Acc);
                                                       _ -> Acc
                                                   end
                                           end, ok),
    Name.

opts(Extra) -> [silent, {erts, code:root_dir()} | Extra].

time(F) ->
    garbage_collect(),
    {T, R} = timer:tc(F),
    true = R =:= ok orelse element(1, R) =:= ok,
    T / 1000.

med(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).

compare(What, Rel, Runs, Extra) ->
    [ok = filelib:ensure_path(D) || D <- ["sys", "rn"]],
    Pairs = [{time(fun() -> systools:make_tar(Rel, [{outdir, "sys"} | opts(Extra)]) end),
              time(fun() -> relnif:make_tar(Rel, [{outdir, "rn"} | opts(Extra)]) end)} || _ <- lists:seq(1, Runs)],
    {S, R} = lists:unzip(Pairs),
    SysFile = "sys/" ++ Rel ++ ".tar.gz",
    OurFile = "rn/" ++ Rel ++ ".tar.gz",
    {SysSize, OurSize} = {filelib:file_size(SysFile), filelib:file_size(OurFile)},
    Same = os:cmd("zcat " ++ SysFile ++ " | md5sum") =:= os:cmd("zcat " ++ OurFile ++ " | md5sum"),
    Inner = list_to_integer(string:trim(os:cmd("zcat " ++ OurFile ++ " | wc -c"))),
    Read = os:cmd("gzip -t " ++ OurFile ++ " && tar tzf " ++ OurFile ++ " >/dev/null && echo ok"),
    io:format("make_tar, ~s (~.1f MB of tar), ~w cores, ~w runs (ms): systools ~w, relnif ~w~n",
              [What, Inner / 1.0e6, erlang:system_info(logical_processors_available), Runs,
               [round(X) || X <- S], [round(X) || X <- R]]),
    io:format("  median: systools ~w ms, relnif ~w ms, ratio ~.1fx~n", [round(med(S)), round(med(R)), med(S) / med(R)]),
    io:format("  size: systools ~w bytes, relnif ~w bytes (~.2f%); inner tar identical: ~p; gzip -t and GNU tar: ~s",
              [SysSize, OurSize, 100 * (OurSize / SysSize - 1), Same, Read]).

%% The uncompressed floor: relnif at level 0 against `tar cf' of the unpacked release.
floor(Rel, Runs, Extra) ->
    Tree = "tree_" ++ Rel,
    ok = filelib:ensure_path(Tree),
    [] = os:cmd("tar xzf rn/" ++ Rel ++ ".tar.gz -C " ++ Tree),
    Level0 = [{compression_level, 0}, {outdir, "rn0"} | opts(Extra)],
    ok = filelib:ensure_path("rn0"),
    Tar = fun() -> "" = os:cmd("tar cf gnu.tar -C " ++ Tree ++ " ."), ok end,
    Pairs = [{time(Tar), time(fun() -> relnif:make_tar(Rel, Level0) end)} || _ <- lists:seq(1, Runs)],
    {T, R} = lists:unzip(Pairs),
    io:format("uncompressed, ~s: tar cf ~w ms, relnif level 0 ~w ms (medians of ~w), relnif/tar cf ~.2f~n",
              [Rel, round(med(T)), round(med(R)), Runs, med(R) / med(T)]),
    _ = file:del_dir_r(Tree),
    ok = file:delete("gnu.tar").
