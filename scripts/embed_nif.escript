#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% Adds files of priv/ (the NIF library, heart, run_erl, to_erl, templates) to an
%% escript's archive as fastrel/priv/...: rebar3 escriptize packs only ebin/. The escript
%% is replaced atomically (fastrel_file, from the build the escript was made of, beside
%% it in _build/PROFILE/lib/fastrel/ebin): an interrupted run leaves the old one whole.
main([Escript | PrivFiles]) ->
    Ebin = filename:join([filename:dirname(filename:dirname(Escript)), "lib", "fastrel", "ebin"]),
    true = code:add_patha(Ebin),
    {ok, Sections} = escript:extract(Escript, []),
    {archive, Zip} = lists:keyfind(archive, 1, Sections),
    {ok, Files0} = zip:extract(Zip, [memory]),
    Files = lists:foldl(fun(F, Acc) ->
                                {ok, Bin} = file:read_file(F),
                                Entry = "fastrel/" ++ F,
                                lists:keystore(Entry, 1, Acc, {Entry, Bin})
                        end, Files0, PrivFiles),
    {ok, {_, NewZip}} = zip:create("fastrel.zip", Files, [memory]),
    {ok, Bytes} = escript:create(binary, lists:keystore(archive, 1, Sections, {archive, NewZip})),
    ok = fastrel_file:write_atomic(Escript, Bytes, 8#755).
