-- The whole-body time limit. nginx's client_body_timeout only bounds the gap
-- between two reads, so a body trickled one byte every few seconds would hold
-- its connection for as long as the client likes. Run in the access phase,
-- before the FastCGI handler reads anything, the function below reads the
-- body itself while a light thread sleeps for `seconds`; if the sleeper wakes
-- first, the request ends (408) and its connection with it. The body read
-- here is what chatd is then sent.
--
-- Loaded once by the master process at start (init_by_lua_block), so the
-- workers never open this file.
return function(seconds)
	if ngx.req.http_version() < 2 then
		-- HTTP/1.x says whether a body follows; most requests have none.
		local length = ngx.var.http_content_length
		if (length == nil or length == "0") and ngx.var.http_transfer_encoding == nil then
			return
		end
	end
	local sleeper = ngx.thread.spawn(function()
		ngx.sleep(seconds)
		ngx.log(ngx.WARN, "request body not complete after ", seconds, " s: closing")
		ngx.exit(ngx.HTTP_REQUEST_TIMEOUT)
	end)
	ngx.req.read_body()
	ngx.thread.kill(sleeper)
end
